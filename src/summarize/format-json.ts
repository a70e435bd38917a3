/**
 * JSON for machines. Steps beyond 2^53 are written as exact integer digits (like the NDJSON
 * schema; JSON.stringify cannot), non-finite values as the schema's strings "NaN", "Infinity",
 * "-Infinity", and absent steps or values as null.
 */
import type { Comparison } from './compare.js';
import type { Report } from './report.js';

/** Wraps a bigint's digits so they can be unquoted after stringify; cannot occur in real text. */
const BIG_MARK = '\u0000bigint:';
const BIG_PATTERN = /"\\u0000bigint:(-?\d+)"/g;

function replacer(key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${BIG_MARK}${value}`;
  if (typeof value === 'number' && !Number.isFinite(value)) {
    // An absent step or statistic is NaN internally; a non-finite metric value keeps its spelling.
    if (key.toLowerCase().endsWith('step') || key === 'tsMin' || key === 'tsMax') return null;
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  return value;
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, replacer, 2).replace(BIG_PATTERN, '$1')}\n`;
}

export function formatReportJson(report: Report): string {
  return toJson({ schema: 'codex-ndjson-summary/1', ...report });
}

export function formatComparisonJson(comparison: Comparison): string {
  return toJson({ schema: 'codex-ndjson-compare/1', ...comparison });
}
