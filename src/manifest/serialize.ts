/**
 * JSON text of a manifest. `step` is int64: a bigint beyond 2^53 is written as its exact digits
 * (JSON.stringify rejects bigint, and Number() would round it).
 */
import type { RunManifest } from './types.js';

// A NUL cannot occur in any string the manifest carries from the environment or the file system,
// so this marker cannot collide with real content once JSON-escaped.
const BIGINT_MARK = '\u0000bigint:';
const BIGINT_TEXT = /"\\u0000bigint:(-?\d+)"/g;

export function serializeManifest(manifest: RunManifest): string {
  const text = JSON.stringify(
    manifest,
    (_key, value: unknown) => (typeof value === 'bigint' ? `${BIGINT_MARK}${value}` : value),
    2,
  );
  return `${text.replace(BIGINT_TEXT, '$1')}\n`;
}
