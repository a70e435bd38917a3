/** How a flat system key is exported as an OpenTelemetry instrument (Prometheus and OTLP). */
import type { Attributes } from '@opentelemetry/api';

export type InstrumentKind = 'gauge' | 'counter' | 'updowncounter';

export interface InstrumentSpec {
  /** Semantic-convention name where one exists (`hw.*`, `system.*`), else `codex.*`. */
  readonly name: string;
  readonly kind: InstrumentKind;
  readonly unit: string;
  readonly description: string;
  /** Multiplies the flat value (percent → fraction: 0.01). */
  readonly scale?: number;
  /** Attributes that tell this key apart from others on the same instrument. */
  readonly attributes?: Attributes;
  /** Integer-valued (ValueType.INT). */
  readonly integer?: boolean;
}
