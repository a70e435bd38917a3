/**
 * A row: the scalars of one `log()` call, one evaluation `log()`, one system sample or one line
 * the bridge read, with the stream it belongs to. The stream decides which NDJSON file takes the
 * row; the phase decides how TensorBoard and W&B present it.
 */
import type { Phase, Step } from '../step.js';

export interface Row {
  /** `train`, `system`, or an evaluation stream's id (its resolved file path). */
  readonly stream: string;
  readonly phase: Phase;
  readonly step: Step;
  /** Unix seconds (fractional) when the row was logged. */
  readonly ts: number;
  readonly names: readonly string[];
  /** Values matching `names`; non-finite values are kept as they are. */
  readonly values: readonly number[];
}

export const TRAIN_STREAM = 'train';
export const SYSTEM_STREAM = 'system';
