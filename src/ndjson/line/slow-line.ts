/**
 * The general path: any line the fast path did not take is read by the bridge's own parser
 * (src/ndjson/line/parse-record.ts), so the reader, `summarize` and the bridge accept and reject exactly
 * the same lines: schema v1 scalar lines and system snapshots in any key order, and plain flat
 * rows (`{"step": 3, "loss": 0.2, "phase": "eval"}`). A line is reported to the visitor only once
 * all of it is valid.
 */
import { parseRecordLine } from './parse-record.js';
import type { MetricVisitor, PhaseId } from './metric-visitor.js';
import type { NameTable } from './name-table.js';

export interface LineFault {
  field: string;
  reason: string;
}

const PHASE_IDS: Readonly<Record<string, PhaseId>> = { train: 0, eval: 1, system: 2 };

export class SlowLineParser {
  constructor(
    private readonly names: NameTable,
    private readonly runs: NameTable,
    private readonly visitor: MetricVisitor,
  ) {}

  /** Emits the line's scalars, or returns what is wrong with it. */
  parse(line: string): LineFault | undefined {
    const result = parseRecordLine(line);
    if (!result.ok) return { field: result.field, reason: result.reason };
    const { row } = result;
    const phase = PHASE_IDS[row.phase] as PhaseId;
    const run = row.runId === undefined ? -1 : this.runs.idOfString(row.runId);
    const step = row.step ?? NaN;
    const ts = row.ts ?? NaN;
    for (let i = 0; i < row.names.length; i++) {
      this.visitor.scalar(
        phase,
        this.names.idOfString(row.names[i] as string),
        run,
        step,
        ts,
        row.values[i] as number,
      );
    }
    return undefined;
  }
}
