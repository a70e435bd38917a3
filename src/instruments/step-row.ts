/**
 * The unit every file sink writes: the scalars of one `log()` call (or one system sample), with the
 * step and wall time they were logged at. File sinks need per-step exactness, which OpenTelemetry's
 * aggregating instruments cannot give (see StepProducer), so rows travel to the file exporters as
 * OTel gauge data points and are rebuilt from them by `decodeStepRows`.
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

/** Data point attribute keys that carry a row's identity through the OTel pipeline. */
export const STEP_ATTR = 'codex.step';
export const PHASE_ATTR = 'codex.phase';
export const SEQ_ATTR = 'codex.seq';

/** Scope name of the metrics produced by the StepProducer. */
export const STEP_SCOPE = 'codex-telemetry/steps';

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

export function stepToBigInt(step: Step): bigint {
  return typeof step === 'bigint' ? step : BigInt(step);
}
