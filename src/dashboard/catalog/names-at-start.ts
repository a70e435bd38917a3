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
 * Stream bytes read first: a stream whose first 256 KiB name series at a rate that cannot reach
 * the bound within NAMES_SAMPLE_BYTES (a training run's few dozen names) is not read further, so
 * a first open of 100 runs parses 25 MB more, not 400 MB.
 */
export const NAMES_PROBE_BYTES = 256 << 10;

/**
 * Non-system series (run, phase, name) among the rows of the first `sampleBytes` of the file open
 * as `fd` (whole lines only), counting stops at `limit`; only those of the first `probeBytes`
 * where they number fewer than `limit` × probeBytes / sampleBytes.
 */
export async function seriesAtStart(
  path: string,
  fd: number,
  size: number,
  limit: number,
  sampleBytes = NAMES_SAMPLE_BYTES,
  probeBytes = NAMES_PROBE_BYTES,
): Promise<number> {
  const tables = { names: new NameTable(), runs: new NameTable() };
  const seen = new Set<string>();
  const visitor: MetricVisitor = {
    scalar(phase: PhaseId, name: number, run: number) {
      if (phase !== PHASE_SYSTEM && seen.size < limit) seen.add(`${phase}/${run}/${name}`);
    },
    // Counted, with the rest of the stream's, when the index is built.
    malformed: () => undefined,
  };
  const probeEnd = wholeLinesEnd(fd, Math.min(size, probeBytes, sampleBytes));
  if (probeEnd > 0) await readMetricRecords(path, visitor, tables, { fd, start: 0, end: probeEnd });
  if (seen.size * sampleBytes < limit * probeBytes) return seen.size;
  const end = wholeLinesEnd(fd, Math.min(size, sampleBytes));
  if (end > probeEnd) await readMetricRecords(path, visitor, tables, { fd, start: probeEnd, end });
  return seen.size;
}
