/**
 * Where every row enters the run: `log()`, evaluation streams, the bridge's replayed rows and
 * system samples. It checks the step (int64; default steps carried into bigint past 2^53 - 1),
 * keeps only numbers, measures the step time once, and hands the row to the pipeline and the
 * backend instruments. Never throws: bad input is refused with one warning.
 */
import { diag } from '@opentelemetry/api';
import { checkStep, nextStep, type Step, type StepRow } from '../step.js';
import type { TrainingInstruments } from '../instruments/training-instruments.js';
import { SYSTEM_STREAM, TRAIN_STREAM, type Row } from '../pipeline/row.js';
import type { RowPipeline } from '../pipeline/row-pipeline.js';
import type { WarnFn } from '../health.js';
import { toColumns } from './row-builder.js';
import { nowSeconds, type Scalars } from './scalars.js';

/** What a system row is made of: the flat keys, as an object or (cheaper) as two columns. */
export interface SystemRowSource {
  readonly ts: number;
  readonly seq: number;
  readonly values: Readonly<Record<string, number>>;
  readonly names?: readonly string[];
  readonly columns?: Float64Array;
}

export class RowIntake {
  /** The default step of the next `log()`; undefined past the int64 maximum. */
  nextTrainStep: Step | undefined = 0;
  lastTrainStep: Step | undefined;
  droppedAfterClose = 0;
  private closed = false;
  private lastTrainTs: number | undefined;
  private badInputWarned = false;

  constructor(
    private readonly pipeline: RowPipeline,
    private readonly training: TrainingInstruments | undefined,
    private readonly warn: WarnFn,
  ) {}

  /** From now on every row is refused (and counted). */
  close(): void {
    this.closed = true;
  }

  record(stream: string, phase: 'train' | 'eval', rawStep: Step | undefined, values: Scalars): boolean {
    if (this.closed) return this.refuse(false, rawStep);
    const step = rawStep === undefined ? undefined : checkStep(rawStep);
    if (step === undefined || values === null || typeof values !== 'object')
      return this.refuse(true, rawStep);
    const columns = toColumns(values);
    if (columns.skipped !== undefined)
      this.badInput(
        `scalar "${columns.skipped}" is ${String(columns.skippedType)}, not a number; it was skipped`,
      );
    this.accept({ stream, phase, step, ts: nowSeconds(), names: columns.names, values: columns.values });
    return true;
  }

  /** A row logged elsewhere (the bridge), with its own phase, step and timestamp. */
  ingest(row: StepRow): boolean {
    const step = checkStep(row.step);
    if (step === undefined || this.closed) return this.refuse(step === undefined, row.step);
    const stream = row.phase === 'system' ? SYSTEM_STREAM : row.phase === 'train' ? TRAIN_STREAM : 'eval';
    this.accept({ stream, phase: row.phase, step, ts: row.ts, names: row.names, values: row.values });
    return true;
  }

  /** One system sample: a row of flat keys (docs/system-keys.md). */
  recordSystem(sample: SystemRowSource): void {
    if (this.closed) return;
    const names = sample.names ?? Object.keys(sample.values);
    const values = sample.columns
      ? Array.from(sample.columns)
      : names.map((name) => sample.values[name] as number);
    this.pipeline.push({
      stream: SYSTEM_STREAM,
      phase: 'system',
      step: sample.seq,
      ts: sample.ts,
      names,
      values,
    });
  }

  /** The one place a row enters: files, backends, step time. */
  private accept(row: Row): void {
    this.pipeline.push(row);
    if (row.phase === 'system') return;
    this.training?.record(row.phase, row.step, row.names, row.values);
    if (row.phase !== 'train') return;
    if (this.lastTrainTs !== undefined && row.ts >= this.lastTrainTs) {
      const seconds = row.ts - this.lastTrainTs;
      this.training?.recordStepTime(seconds);
      this.pipeline.recordStepTime(seconds, row.step, row.ts);
    }
    this.lastTrainTs = row.ts;
    this.lastTrainStep = row.step;
    this.nextTrainStep = nextStep(row.step);
  }

  private refuse(badStep: boolean, rawStep: unknown): false {
    if (!badStep) this.droppedAfterClose++;
    else if (rawStep === undefined) this.badInput('log() has no default step left past the int64 maximum');
    else this.badInput(`log() needs an int64 step and an object of numbers; got step ${String(rawStep)}`);
    return false;
  }

  private badInput(message: string): void {
    if (this.badInputWarned) {
      diag.debug(`codex-telemetry: ${message}`);
      return;
    }
    this.badInputWarned = true;
    this.warn(`codex-telemetry: ${message} (further bad input is reported at debug level)`);
  }
}
