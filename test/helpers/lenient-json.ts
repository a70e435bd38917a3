const NON_FINITE_MARK = '~codex-non-finite~';

/**
 * JSON as W&B and TensorBoard (Python's json module) write it: bare NaN, Infinity and -Infinity
 * allowed, and read back as numbers.
 */
export function parseLenientJson(text: string): unknown {
  const bare = text.trim();
  if (bare === 'NaN' || bare === 'Infinity' || bare === '-Infinity') return Number(bare);
  const marked = text.replace(/(?<=[:,[]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g, `"${NON_FINITE_MARK}$1"`);
  return JSON.parse(marked, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(NON_FINITE_MARK)
      ? Number(value.slice(NON_FINITE_MARK.length))
      : value,
  );
}
