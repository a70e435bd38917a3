/**
 * What the fast NDJSON reader hands its consumer. One call per scalar (a schema v1 scalar line, one
 * key of a system snapshot, one numeric key of a plain row), with the name and run id interned to
 * small integers so the consumer indexes arrays instead of hashing strings on every line.
 */

/** Phase ids: array indexes, cheaper than strings on the hot path. */
export const PHASE_TRAIN = 0;
export const PHASE_EVAL = 1;
export const PHASE_SYSTEM = 2;
export type PhaseId = 0 | 1 | 2;
export const PHASE_NAMES = ['train', 'eval', 'system'] as const;

/** A line the reader could not accept, with enough to find it: 1-based line and the field at fault. */
export interface MalformedLine {
  line: number;
  /** Byte offset of the line's first byte in the (decompressed) file. */
  offset: number;
  field: string;
  reason: string;
}

export interface MetricVisitor {
  /**
   * @param phase PHASE_TRAIN, PHASE_EVAL or PHASE_SYSTEM
   * @param name id from the reader's NameTable (`names.name(id)`)
   * @param run run id from the reader's run table, or -1 when the line has none
   * @param step the line's step: a number, a bigint beyond 2^53, or NaN when the line has none
   * @param ts Unix seconds, or NaN when the line has none
   * @param value the scalar; non-finite values arrive as NaN/±Infinity
   */
  scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number): void;
  malformed(line: MalformedLine): void;
}
