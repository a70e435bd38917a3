/**
 * Whether a stream read without its run index has very many names, told from its first bytes: the
 * dashboard then builds the index first and opens the stream as a catalog (open-catalog.ts),
 * instead of holding a series for each name (about 1.4 KB each: 2.4 GB of RSS at a million names).
 *
 * A stream whose names only multiply after its first NAMES_SAMPLE_BYTES is read as before, every
 * series held; its index is built in the background and the next open is a catalog.
 */
import { readMetricRecords } from '../../ndjson/read-metric-records.js';
import { NameTable } from '../../ndjson/line/name-table.js';
import { PHASE_SYSTEM, type MetricVisitor, type PhaseId } from '../../ndjson/line/metric-visitor.js';
import { wholeLinesEnd } from '../../ndjson/split-points.js';

/**
 * Stream bytes read to count names: 4 MiB is about 34,000 rows of one scalar (about 40 ms to
 * parse), enough to see CATALOG_MIN_SERIES names where each row names a new one.
 */
export const NAMES_SAMPLE_BYTES = 4 << 20;

/**
 * Non-system series (run, phase, name) among the rows of the first `sampleBytes` of the file open
 * as `fd` (whole lines only), counting stops at `limit`.
 */
export async function seriesAtStart(
  path: string,
  fd: number,
  size: number,
  limit: number,
  sampleBytes = NAMES_SAMPLE_BYTES,
): Promise<number> {
  const end = wholeLinesEnd(fd, Math.min(size, sampleBytes));
  if (end === 0) return 0;
  const tables = { names: new NameTable(), runs: new NameTable() };
  const seen = new Set<string>();
  const visitor: MetricVisitor = {
    scalar(phase: PhaseId, name: number, run: number) {
      if (phase !== PHASE_SYSTEM && seen.size < limit) seen.add(`${phase}/${run}/${name}`);
    },
    // Counted, with the rest of the stream's, when the index is built.
    malformed: () => undefined,
  };
  await readMetricRecords(path, visitor, tables, { fd, start: 0, end });
  return seen.size;
}
