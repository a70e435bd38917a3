/**
 * A row: the scalars of one `log()` call, one evaluation `log()`, one system sample or one line
 * the bridge read, with the stream it belongs to. The stream decides which NDJSON file takes the
 * row; the phase decides how TensorBoard and W&B present it.
 */
import type { StepRow } from '../step.js';

export interface Row extends StepRow {
  /** `train`, `system`, or an evaluation stream's id (its resolved file path). */
  readonly stream: string;
}

export const TRAIN_STREAM = 'train';
export const SYSTEM_STREAM = 'system';
