/**
 * The one list of metric names and units the pipeline itself defines. System and GPU names live in
 * src/instruments/system-instruments.ts, beside the sampler that feeds them.
 */
export const METRIC_STEPS = 'codex.steps';
export const METRIC_SCALARS = 'codex.scalars';
export const METRIC_STEP_DURATION = 'codex.step.duration';
export const METRIC_SINK_UP = 'codex.sink.up';
export const METRIC_SINK_DROPPED_ROWS = 'codex.sink.dropped_rows';
export const METRIC_SCALAR_NAMES_DROPPED = 'codex.scalar.names.dropped';
export const METRIC_LAST_STEP = 'codex.step';

export const ATTR_PHASE = 'phase';
export const ATTR_SINK = 'sink';

/** Meter (instrumentation scope) names. */
export const METER_TRAINING = 'codex-telemetry';

const INSTRUMENT_NAME = /^[A-Za-z][A-Za-z0-9_.\-/]{0,254}$/;

/**
 * A scalar name as an OTel instrument name (which Prometheus then turns into `loss`, `train_lr`...).
 * Anything the API would reject becomes `_`; a leading non-letter gets a `scalar_` prefix.
 */
export function instrumentNameFor(scalar: string): string {
  if (INSTRUMENT_NAME.test(scalar)) return scalar;
  let name = scalar.replace(/[^A-Za-z0-9_.\-/]/g, '_');
  if (!/^[A-Za-z]/.test(name)) name = `scalar_${name}`;
  return name.slice(0, 255);
}
