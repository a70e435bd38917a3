/**
 * Steps and phases, shared by every layer: a step is an int64 (a number while safe, a bigint
 * beyond 2^53), and `StepRow` is a row as a caller hands it in, before it is given a stream
 * (src/pipeline/row.ts).
 */
export type Phase = 'train' | 'eval' | 'system';

export const PHASES: readonly Phase[] = ['train', 'eval', 'system'];

/** A training step: a safe integer as a number, anything beyond 2^53 as a bigint (int64 range). */
export type Step = number | bigint;

export interface StepRow {
  readonly phase: Phase;
  readonly step: Step;
  /** Unix time in seconds (fractional), when the row was logged. */
  readonly ts: number;
  /** Scalar names (after a trip through the pipeline: in the order names were first seen). */
  readonly names: readonly string[];
  /** Values matching `names`; non-finite values are kept as they are. */
  readonly values: readonly number[];
}

export const INT64_MAX = (1n << 63n) - 1n;
export const INT64_MIN = -(1n << 63n);

/** Normalizes a step to the canonical representation: number when safe, bigint otherwise. */
export function normalizeStep(step: Step): Step {
  if (typeof step === 'bigint') {
    return step >= BigInt(Number.MIN_SAFE_INTEGER) && step <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(step)
      : step;
  }
  return step;
}

/**
 * The step after `step`, carried into bigint past 2^53 - 1 so default steps never stop. Undefined
 * past the int64 maximum, where no next step exists.
 */
export function nextStep(step: Step): Step | undefined {
  if (typeof step === 'number') {
    return step < Number.MAX_SAFE_INTEGER ? step + 1 : normalizeStep(BigInt(step) + 1n);
  }
  return step < INT64_MAX ? normalizeStep(step + 1n) : undefined;
}

/** A valid int64 step in canonical form, or undefined for anything else. */
export function checkStep(step: unknown): Step | undefined {
  if (typeof step === 'number') return Number.isSafeInteger(step) ? step : undefined;
  if (typeof step === 'bigint')
    return step >= INT64_MIN && step <= INT64_MAX ? normalizeStep(step) : undefined;
  return undefined;
}
