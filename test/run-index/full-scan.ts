/**
 * The reference the index is checked against: every row of a stream read in full, with its line's
 * offset, and the bucket a plain loop over a series' rows gives.
 */
import type { LineProcessor } from '../../src/ndjson/line/line-processor.js';
import { PHASE_NAMES, type MetricVisitor, type PhaseId } from '../../src/ndjson/line/metric-visitor.js';
import { NameTable } from '../../src/ndjson/line/name-table.js';
import { readMetricRecords } from '../../src/ndjson/read-metric-records.js';

export interface ScannedRow {
  offset: number;
  step: number;
  ts: number;
  value: number;
}

/** Rows per series key `run|phase|name`, in stream order. */
export async function fullScan(file: string): Promise<Map<string, ScannedRow[]>> {
  const tables = { names: new NameTable(), runs: new NameTable() };
  const rows = new Map<string, ScannedRow[]>();
  let processor: LineProcessor | undefined;
  const visitor: MetricVisitor = {
    scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number) {
      const key = `${run < 0 ? '' : tables.runs.name(run)}|${PHASE_NAMES[phase]}|${tables.names.name(name)}`;
      const list = rows.get(key) ?? [];
      rows.set(key, list);
      list.push({ offset: (processor as LineProcessor).lineStart, step: Number(step), ts, value });
    },
    malformed() {},
  };
  await readMetricRecords(file, visitor, tables, { onProcessor: (p) => (processor = p) });
  return rows;
}

export interface PlainBucket {
  count: number;
  nan: number;
  posInf: number;
  negInf: number;
  firstStep: number;
  lastStep: number;
  firstTs: number;
  lastTs: number;
  min: number;
  minStep: number;
  max: number;
  maxStep: number;
  last: number;
  sum: number;
  offset: number;
  lastOffset: number;
}

/** The bucket of `rows` (non-empty), computed the obvious way. */
export function plainBucket(rows: readonly ScannedRow[]): PlainBucket {
  const finite = rows.filter((r) => Number.isFinite(r.value));
  let min = Infinity;
  let minStep = NaN;
  let max = -Infinity;
  let maxStep = NaN;
  for (const r of finite) {
    if (r.value < min) [min, minStep] = [r.value, r.step];
    if (r.value > max) [max, maxStep] = [r.value, r.step];
  }
  const first = rows[0] as ScannedRow;
  const last = rows.at(-1) as ScannedRow;
  return {
    count: rows.length,
    nan: rows.filter((r) => Number.isNaN(r.value)).length,
    posInf: rows.filter((r) => r.value === Infinity).length,
    negInf: rows.filter((r) => r.value === -Infinity).length,
    firstStep: first.step,
    lastStep: last.step,
    firstTs: first.ts,
    lastTs: last.ts,
    min,
    minStep,
    max,
    maxStep,
    last: last.value,
    sum: finite.reduce((a, r) => a + r.value, 0),
    offset: first.offset,
    lastOffset: last.offset,
  };
}
