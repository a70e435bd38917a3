/**
 * W&B's `value_json` strings read back: plain JSON, plus the bare words `NaN`, `Infinity` and
 * `-Infinity` W&B writes for non-finite numbers (also inside objects). Keys are shown the way W&B
 * shows them: a nested key's parts joined by dots (`train.acc.top1`).
 */
import type { KeyedItem } from '../../formats/wandb/record-types.js';

const NON_FINITE_WORD = /(?<=[[:,]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g;

/** Parses one value_json; numbers take the fast path (most history values are). */
export function parseValueJson(text: string): unknown {
  const c = text.charCodeAt(0);
  // Digits, '-', 'N'aN, 'I'nfinity: Number() reads JSON numbers and the three bare words alike.
  if ((c >= 48 && c <= 57) || c === 45 || c === 78 || c === 73) {
    const number = Number(text);
    if (!Number.isNaN(number) || text === 'NaN') return number;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // An object or array holding bare non-finite words: quote them, parse, then turn them back.
    const marked = text.replace(NON_FINITE_WORD, '"\u0000$1"');
    return JSON.parse(marked, (_key, value: unknown) =>
      typeof value === 'string' && value.startsWith('\u0000') ? Number(value.slice(1)) : value,
    ) as unknown;
  }
}

/** The key as W&B shows it. */
export function keyOf(item: KeyedItem): string {
  return item.nested_key !== undefined && item.nested_key.length > 0 ? item.nested_key.join('.') : (item.key ?? '');
}

/** Applies config or summary updates (and removals) to a plain object, nested keys as nested objects. */
export function applyItems(
  into: Record<string, unknown>,
  update: readonly KeyedItem[] | undefined,
  remove: readonly KeyedItem[] | undefined,
  describeBad: (item: KeyedItem, error: unknown) => void,
): void {
  for (const item of update ?? []) {
    const path = item.nested_key !== undefined && item.nested_key.length > 0 ? item.nested_key : [item.key ?? ''];
    let value: unknown;
    try {
      value = parseValueJson(item.value_json ?? 'null');
    } catch (error) {
      describeBad(item, error);
      continue;
    }
    let node = into;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = value;
  }
  for (const item of remove ?? []) {
    const path = item.nested_key !== undefined && item.nested_key.length > 0 ? item.nested_key : [item.key ?? ''];
    let node: unknown = into;
    for (const part of path.slice(0, -1)) node = (node as Record<string, unknown> | undefined)?.[part];
    if (typeof node === 'object' && node !== null) delete (node as Record<string, unknown>)[path[path.length - 1] as string];
  }
}
