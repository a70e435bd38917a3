/**
 * JSON for machines. Steps beyond 2^53 are written as exact integer digits (like the NDJSON
 * schema; JSON.stringify cannot), non-finite values as the schema's strings "NaN", "Infinity",
 * "-Infinity", and absent steps or figures as null: a statistic over finite values (min, max,
 * mean, best, peak) is NaN internally only when there is none, and a metric without a goal has
 * `"goal": null`, `"best": null`, `"bestStep": null`.
 */
import type { Comparison } from './compare.js';
import type { Report } from './report.js';
import { wellFormed, type Replacements } from './safe-text.js';

/** Wraps a bigint's digits so they can be unquoted after stringify; cannot occur in real text. */
const BIG_MARK = '\u0000bigint:';
const BIG_PATTERN = /"\\u0000bigint:(-?\d+)"/g;

/** Figures that are NaN only when absent: computed over finite values, or timestamps. */
const ABSENT_WHEN_NAN = new Set(['tsMin', 'tsMax', 'min', 'max', 'mean', 'best', 'peak']);

function replacer(key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${BIG_MARK}${value}`;
  if (key === 'goal' && value === undefined) return null;
  if (typeof value === 'number' && !Number.isFinite(value)) {
    // An absent step or statistic is NaN internally; a non-finite metric value keeps its spelling.
    if (key.toLowerCase().endsWith('step') || (Number.isNaN(value) && ABSENT_WHEN_NAN.has(key))) return null;
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  return value;
}

/**
 * JSON text that is valid UTF-8: lone surrogates in names become U+FFFD, and when any was replaced
 * the document says how many (`replacedLoneSurrogates`), so a changed name is never silent.
 */
export function toJson(value: unknown): string {
  const count: Replacements = { loneSurrogates: 0 };
  const safe = wellFormed(value, count);
  const counted =
    count.loneSurrogates > 0 && safe !== null && typeof safe === 'object' && !Array.isArray(safe)
      ? { ...safe, replacedLoneSurrogates: count.loneSurrogates }
      : safe;
  return `${JSON.stringify(counted, replacer, 2).replace(BIG_PATTERN, '$1')}\n`;
}

export function formatReportJson(report: Report): string {
  return toJson({ schema: 'codex-ndjson-summary/1', ...report });
}

export function formatComparisonJson(comparison: Comparison): string {
  return toJson({ schema: 'codex-ndjson-compare/1', ...comparison });
}
