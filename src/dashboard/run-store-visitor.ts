/**
 * Where a TensorBoard or W&B run reader's scalars enter the dashboard's store: one BucketSeries per
 * (phase, metric) of the run, made on first use. A scalar without a step (W&B's system stats) is
 * placed at its series' point count. A run read again from its start (a restart) clears them all.
 */
import type { MetricVisitor, PhaseId } from '../ndjson/line/metric-visitor.js';
import { PHASE_NAMES } from '../ndjson/line/metric-visitor.js';
import type { NameTable } from '../ndjson/line/name-table.js';
import type { BucketSeries, BucketSeriesState } from './bucket-series.js';
import { chartPlace } from './chart-key.js';
import type { SeriesStore } from './series-store.js';

/** One series of a run as plain data (what a worker thread sends back). */
export interface RunSeriesPart {
  phase: PhaseId;
  name: string;
  state: BucketSeriesState;
}

export class RunStoreVisitor implements MetricVisitor {
  private readonly cache: (BucketSeries | undefined)[][] = [[], [], []];
  private readonly metric: string[][] = [[], [], []];
  private readonly made: { series: BucketSeries; metric: string; phase: PhaseId; name: string }[] = [];

  constructor(
    private readonly store: SeriesStore,
    private readonly names: NameTable,
    private readonly run: () => string,
  ) {}

  scalar(phase: PhaseId, name: number, _run: number, step: number | bigint, ts: number, value: number): void {
    let series = this.cache[phase]?.[name];
    if (series === undefined) series = this.make(phase, name);
    const x = typeof step === 'bigint' ? Number(step) : Number.isNaN(step) ? series.points : step;
    series.add(x, ts, value);
    this.store.touch((this.metric[phase] as string[])[name] as string);
  }

  /** Buckets of a series read elsewhere (an index, a worker thread), before its next scalar. */
  adopt(phase: PhaseId, name: number, state: BucketSeriesState): void {
    const series = this.cache[phase]?.[name] ?? this.make(phase, name);
    series.append(state);
    this.store.touch((this.metric[phase] as string[])[name] as string);
  }

  /** Every series of the run so far, as plain data. */
  parts(): RunSeriesPart[] {
    return this.made.map(({ series, phase, name }) => ({ phase, name, state: series.state() }));
  }

  malformed(): void {
    // Run readers report bad input through their sink, with file and byte offset.
  }

  clear(): void {
    for (const { series, metric } of this.made) {
      series.clear();
      this.store.touch(metric);
    }
  }

  private make(phase: PhaseId, name: number): BucketSeries {
    const text = this.names.name(name);
    const series = this.store.series(this.run(), 0, PHASE_NAMES[phase], text);
    const metric = chartPlace(PHASE_NAMES[phase], text).metric;
    (this.cache[phase] as BucketSeries[])[name] = series;
    (this.metric[phase] as string[])[name] = metric;
    this.made.push({ series, metric, phase, name: text });
    return series;
  }
}
