/**
 * Turns train and eval rows into W&B history rows under W&B's "step only increases" rule:
 *
 * - Rows at the same step merge into one history row (as `wandb.log` does for one step), so an
 *   eval at step 100 lands beside the train scalars of step 100 as `eval/<name>`.
 * - A row whose step is below the last history step is written at the last step instead, with its
 *   own step kept in an `eval/step` (or `train/step`) item: W&B would otherwise drop it.
 *
 * A row is held until a row at a later step arrives (or the caller takes it at a flush), because
 * the next row may still belong to the same step.
 */
import type { Phase, Step, StepRow } from '../../step.js';

export interface HistoryRow {
  step: Step;
  /** Unix seconds of the latest row merged in. */
  ts: number;
  keys: readonly string[];
  values: ReadonlyArray<number | bigint>;
}

interface PendingRow {
  step: Step;
  ts: number;
  keys: string[] | readonly string[];
  values: Array<number | bigint> | readonly number[];
  /** False while keys/values are still the caller's arrays (copied before the first merge). */
  owned: boolean;
}

const EVAL_PREFIX = 'eval/';

export class HistoryRowAssembler {
  private pending: PendingRow | undefined;
  private lastStep: Step | undefined;
  private readonly evalKeys = new Map<string, string>();

  /** Whether a row is held. */
  get holding(): boolean {
    return this.pending !== undefined;
  }

  /** Adds one train or eval row; returns the held row when this one starts a later step. */
  add(row: StepRow): HistoryRow | undefined {
    const last = this.lastStep;
    const behind = last !== undefined && row.step < last;
    const step = behind ? last : row.step;
    const keys = row.phase === 'eval' ? this.evalNames(row.names) : row.names;
    let done: HistoryRow | undefined;
    const pending = this.pending;
    if (pending !== undefined && sameStep(pending.step, step)) {
      merge(pending, keys, row.values);
      if (row.ts > pending.ts) pending.ts = row.ts;
    } else {
      done = pending;
      this.pending = { step, ts: row.ts, keys, values: row.values, owned: false };
    }
    if (behind) merge(this.pending as PendingRow, [stepKey(row.phase)], [row.step]);
    this.lastStep = step;
    return done;
  }

  /** Hands over the held row, if any (at flush and shutdown). */
  take(): HistoryRow | undefined {
    const pending = this.pending;
    this.pending = undefined;
    return pending;
  }

  private evalNames(names: readonly string[]): string[] {
    const keys = new Array<string>(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      let key = this.evalKeys.get(name);
      if (key === undefined) {
        key = EVAL_PREFIX + name;
        if (this.evalKeys.size < 10_000) this.evalKeys.set(name, key);
      }
      keys[i] = key;
    }
    return keys;
  }
}

function stepKey(phase: Phase): string {
  return phase === 'eval' ? 'eval/step' : `${phase}/step`;
}

/** Later values win, as when `wandb.log` is called twice for one step. */
function merge(pending: PendingRow, keys: readonly string[], values: ReadonlyArray<number | bigint>): void {
  if (!pending.owned) {
    pending.keys = [...pending.keys];
    pending.values = [...pending.values];
    pending.owned = true;
  }
  const ownKeys = pending.keys as string[];
  const ownValues = pending.values as Array<number | bigint>;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const at = ownKeys.indexOf(key);
    if (at >= 0) ownValues[at] = values[i] as number | bigint;
    else {
      ownKeys.push(key);
      ownValues.push(values[i] as number | bigint);
    }
  }
}

export function sameStep(a: Step, b: Step): boolean {
  return typeof a === typeof b ? a === b : BigInt(a) === BigInt(b);
}
