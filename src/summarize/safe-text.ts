/**
 * Names, labels and malformed-line reasons come from the files being summarized, so they are
 * untrusted text. Before they reach a terminal, a spreadsheet, a markdown renderer or a JSON
 * parser they pass through here:
 * - control characters (C0, DEL, C1: ESC sequences, carriage returns, bells) become visible
 *   `\xNN` escapes, so a metric name cannot move the cursor or recolour the terminal;
 * - a CSV text cell starting with `=`, `+`, `-`, `@`, a tab or a CR gets a leading apostrophe, so a
 *   spreadsheet shows it instead of running it as a formula (as the dashboard's CSV does);
 * - markdown cells escape `&`, `<` and `>`, so HTML in a name is shown, not rendered;
 * - JSON strings are made well-formed UTF-16: a lone surrogate (which UTF-8 cannot encode and jq
 *   refuses) becomes U+FFFD, and the replacements are counted.
 */

/** C0 controls, DEL and C1 controls. */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const FORMULA_START = /^[=+\-@\t\r]/;

/** A spreadsheet runs a cell starting with one of these as a formula: prefix an apostrophe. */
export function guardFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

export function escapeHtmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Counts the lone surrogates replaced while making a value well-formed. */
export interface Replacements {
  loneSurrogates: number;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function wellFormedString(text: string, count: Replacements): string {
  if (!/[\ud800-\udfff]/.test(text)) return text;
  return text.replace(LONE_SURROGATE, () => {
    count.loneSurrogates++;
    return '\ufffd';
  });
}

/** A copy of a JSON-bound value whose every string and key is well-formed UTF-16. */
export function wellFormed<T>(value: T, count: Replacements): T {
  if (typeof value === 'string') return wellFormedString(value, count) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => wellFormed(item, count)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>))
    out[wellFormedString(key, count)] = wellFormed(item, count);
  return out as T;
}
