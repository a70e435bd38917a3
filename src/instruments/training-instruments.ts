/**
 * Training scalars for the aggregating backends (Prometheus, OTLP): one observable gauge per scalar
 * name holding its last value per phase (never a step label), step and scalar counters, and a
 * step-time histogram in seconds. Observable instruments make the hot path a map write; the SDK
 * does its work only when a backend collects.
 */
import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import type { Phase } from '../step.js';
import {
  ATTR_PHASE,
  ATTR_SINK,
  METRIC_LAST_STEP,
  METRIC_SCALAR_NAMES_DROPPED,
  METRIC_SCALARS,
  METRIC_SINK_UP,
  METRIC_SINK_DROPPED_ROWS,
  METRIC_STEP_DURATION,
  METRIC_STEPS,
  instrumentNameFor,
} from './names.js';
import type { SinkHealth } from '../health.js';
import type { GaugeSeries, LastValueGauges } from './last-value-gauges.js';

/** Our own series; a scalar named like them would produce duplicate HELP/TYPE lines. */
const RESERVED_PREFIX = /^codex[._]/;

const PHASE_ATTRS: Record<Phase, Attributes> = {
  train: { [ATTR_PHASE]: 'train' },
  eval: { [ATTR_PHASE]: 'eval' },
  system: { [ATTR_PHASE]: 'system' },
};

/** The two series of one scalar name, resolved once (like bound instruments). */
interface ScalarSeries {
  train: GaugeSeries;
  eval: GaugeSeries;
}

export interface TrainingInstrumentsOptions {
  meter: Meter;
  /** Where scalar gauges live: a MetricProducer given to the backend readers. */
  gauges: LastValueGauges;
  health: SinkHealth;
  maxScalarNames: number;
  warn: (message: string) => void;
}

export class TrainingInstruments {
  private readonly meter: Meter;
  private readonly latest = new Map<string, ScalarSeries>();
  private readonly gauges: LastValueGauges;
  private readonly instrumentNames = new Set<string>();
  /** Names refused a gauge; remembered so each is counted once and not retried on every log. */
  private readonly rejected = new Set<string>();
  private readonly maxScalarNames: number;
  private readonly warn: (message: string) => void;
  private readonly stepDuration: Histogram;
  private readonly counts = { train: 0, eval: 0, trainScalars: 0, evalScalars: 0 };
  private lastStep: number | undefined;
  private droppedNames = 0;
  private overflowWarned = false;

  constructor(options: TrainingInstrumentsOptions) {
    this.meter = options.meter;
    this.gauges = options.gauges;
    this.maxScalarNames = options.maxScalarNames;
    this.warn = options.warn;
    this.stepDuration = this.meter.createHistogram(METRIC_STEP_DURATION, {
      description: 'Wall time between consecutive training steps',
      unit: 's',
    });
    this.meter
      .createObservableCounter(METRIC_STEPS, {
        description: 'Steps logged',
        unit: '{step}',
        valueType: ValueType.INT,
      })
      .addCallback((result) => {
        result.observe(this.counts.train, PHASE_ATTRS.train);
        result.observe(this.counts.eval, PHASE_ATTRS.eval);
      });
    this.meter
      .createObservableCounter(METRIC_SCALARS, {
        description: 'Scalars logged',
        unit: '{scalar}',
        valueType: ValueType.INT,
      })
      .addCallback((result) => {
        result.observe(this.counts.trainScalars, PHASE_ATTRS.train);
        result.observe(this.counts.evalScalars, PHASE_ATTRS.eval);
      });
    this.meter
      .createObservableGauge(METRIC_LAST_STEP, { description: 'Last training step logged', unit: '{step}' })
      .addCallback((result) => {
        if (this.lastStep !== undefined) result.observe(this.lastStep);
      });
    this.meter
      .createObservableGauge(METRIC_SINK_UP, {
        description: '1 while a sink writes, 0 once it has failed',
        valueType: ValueType.INT,
      })
      .addCallback((result) => {
        for (const [sink, up] of options.health.entries()) result.observe(up ? 1 : 0, { [ATTR_SINK]: sink });
      });
    this.meter
      .createObservableCounter(METRIC_SINK_DROPPED_ROWS, {
        description: 'Rows a stuck sink dropped at its memory cap (maxSinkQueue)',
        unit: '{row}',
        valueType: ValueType.INT,
      })
      .addCallback((result) => {
        for (const [sink] of options.health.entries())
          result.observe(options.health.dropped(sink), { [ATTR_SINK]: sink });
      });
    this.meter
      .createObservableCounter(METRIC_SCALAR_NAMES_DROPPED, {
        description: `Scalar names not exported to Prometheus/OTLP because more than maxScalarNames exist`,
        valueType: ValueType.INT,
      })
      .addCallback((result) => result.observe(this.droppedNames));
  }

  /** One step duration, measured once by the caller (the same value TensorBoard charts). */
  recordStepTime(seconds: number): void {
    this.stepDuration.record(seconds);
  }

  /** Records one logged row; `step` only feeds the last-step gauge, never a label. */
  record(
    phase: 'train' | 'eval',
    step: number | bigint,
    names: readonly string[],
    values: readonly number[],
  ): void {
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      let entry = this.latest.get(name);
      if (entry === undefined) {
        if (this.rejected.has(name)) continue;
        entry = this.addGauge(name);
        if (entry === undefined) {
          this.rejected.add(name);
          continue;
        }
      }
      entry[phase].set(values[i] as number);
    }
    if (phase === 'train') {
      this.counts.train++;
      this.counts.trainScalars += names.length;
      this.lastStep = Number(step);
    } else {
      this.counts.eval++;
      this.counts.evalScalars += names.length;
    }
  }

  private addGauge(name: string): ScalarSeries | undefined {
    const instrumentName = instrumentNameFor(name);
    if (this.instrumentNames.has(instrumentName) || RESERVED_PREFIX.test(instrumentName)) {
      // Two scalar names that sanitize to one instrument (the first keeps the series), or a name
      // that would collide with our own codex.* series and break the exposition format.
      this.countDropped(`scalar "${name}" maps to the already used metric name "${instrumentName}"`);
      return undefined;
    }
    if (this.latest.size >= this.maxScalarNames) {
      this.countDropped(
        `more than maxScalarNames=${this.maxScalarNames} distinct scalar names; "${name}" and later names are not exported to Prometheus/OTLP (file sinks still get them)`,
      );
      return undefined;
    }
    const gauge = this.gauges.gauge(instrumentName, { description: `Last logged value of "${name}"` });
    const entry = { train: gauge.series(PHASE_ATTRS.train), eval: gauge.series(PHASE_ATTRS.eval) };
    this.latest.set(name, entry);
    this.instrumentNames.add(instrumentName);
    return entry;
  }

  private countDropped(reason: string): void {
    this.droppedNames++;
    if (!this.overflowWarned) {
      this.overflowWarned = true;
      this.warn(`codex-telemetry: ${reason}. Counted in ${METRIC_SCALAR_NAMES_DROPPED}.`);
    }
  }
}
