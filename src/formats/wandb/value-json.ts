/**
 * `value_json` strings as W&B writes them. Finite numbers are JSON numbers (every string
 * `String(number)` produces for a finite number is valid JSON); non-finite ones are the bare
 * words `NaN`, `Infinity`, `-Infinity` that W&B's parsers accept, where `JSON.stringify` would
 * silently write `null`.
 */

export function numberJson(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

export function valueJson(value: number | bigint | string | boolean): string {
  if (typeof value === 'number') return numberJson(value);
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value);
}

/** Seconds rounded to the microsecond, so `_runtime`/`_timestamp` print short. */
export function roundMicros(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/**
 * Serializes a plain value tree as JSON, keeping non-finite numbers bare (the form W&B's own
 * `wandb-summary.json` has). Only for summaries and configs: objects, arrays and scalars.
 */
export function jsonWithNonFinite(value: unknown, indent = ''): string {
  if (typeof value === 'number') return numberJson(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map((item) => jsonWithNonFinite(item, indent)).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}: ${jsonWithNonFinite(item, indent)}`).join(', ')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
