/** Public input shapes of the training API. */
import type { Step } from '../step.js';

export type Scalars = Readonly<Record<string, number>>;

export interface LogOptions {
  /** Training step (int64: bigint beyond 2^53). Default: the previous step + 1 (0 first). */
  step?: Step;
  /** Put this step into every file sink now (within 100 ms) instead of at the next flush. */
  commit?: boolean;
}

/** Unix seconds with sub-millisecond resolution (Date.now() only has milliseconds). */
export function nowSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}
