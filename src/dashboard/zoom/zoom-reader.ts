/**
 * Reads one series over a step window for a drag-zoom, from its stream's run index and, once the
 * window is small enough to draw every row, from the stream's rows themselves: only the bytes of
 * the index buckets meeting the window, parsed with the shared line codec, only the series asked.
 * A series of a stream opened as a catalog (../catalog/) has no index read: its catalog gives its
 * level-0 buckets (their offsets), and the window is read and bounded as any other.
 */
import { errnoCode, TelemetryError } from '../../errors.js';
import { COUNT, RECORD_COLUMNS } from '../../run-index/bucket-record.js';
import { PHASE_NAMES, type MetricVisitor, type PhaseId } from '../../ndjson/line/metric-visitor.js';
import { NameTable } from '../../ndjson/line/name-table.js';
import { mergeLineRanges, readLineRanges, type LineRange } from '../../ndjson/read-line-ranges.js';
import { streamFiles } from '../../ndjson/segments.js';
import type { BucketSeriesState } from '../bucket-series.js';
import { recordsToState } from '../index-buckets.js';
import { seriesKey, ZoomIndexCache, type SeriesBuckets } from './index-cache.js';
import type { SeriesOrigin } from './series-origin.js';
import {
  countWindow,
  envelopeLevel,
  exactRanges,
  exactWanted,
  stepless,
  windowRecords,
} from './window-plan.js';

/**
 * Stream bytes one zoom request may parse (all series of the chart together): at about 100 MB/s
 * that is under 0.7 s. A window that needs more is refused (HTTP 413): zoom in further.
 */
export const ZOOM_MAX_READ_BYTES = 64 << 20;
/**
 * A gzip segment cannot be seeked: the rows of a window in it cost inflating the segment from its
 * start. Decompressed bytes past this are refused like the read bound.
 */
export const ZOOM_MAX_INFLATE_BYTES = 512 << 20;

export interface ExactRows {
  mode: 'exact';
  step: number[];
  ts: number[];
  value: number[];
}

export interface Envelope {
  mode: 'envelope';
  level: number;
  /** Index buckets (in the window) as a BucketSeries state. */
  state: BucketSeriesState;
}

export type ZoomedSeries = ExactRows | Envelope;

/** The bytes left to one request (ZOOM_MAX_READ_BYTES at its start). */
export interface ReadBudget {
  bytes: number;
}

/** Keeps the rows of one series with steps in [from, to], in stream order. */
class WindowRows implements MetricVisitor {
  readonly rows: ExactRows = { mode: 'exact', step: [], ts: [], value: [] };
  skipped = 0;

  constructor(
    private readonly phase: PhaseId,
    private readonly name: number,
    private readonly run: number,
    private readonly from: number,
    private readonly to: number,
  ) {}

  scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number): void {
    if (phase !== this.phase || name !== this.name || run !== this.run) return;
    const x = typeof step === 'bigint' ? Number(step) : step;
    if (!(x >= this.from && x <= this.to)) return;
    this.rows.step.push(x);
    this.rows.ts.push(ts);
    this.rows.value.push(value);
  }

  malformed(): void {
    // Reported when the stream was first read; a zoom only draws the rows that parse.
    this.skipped++;
  }
}

interface FileSeries {
  path: string;
  origin: SeriesOrigin;
  buckets: SeriesBuckets;
}

export interface ZoomReaderOptions {
  cache?: ZoomIndexCache;
  /** Default ZOOM_MAX_READ_BYTES. */
  maxReadBytes?: number;
  /** Default ZOOM_MAX_INFLATE_BYTES. */
  maxInflateBytes?: number;
}

export class ZoomReader {
  readonly cache: ZoomIndexCache;
  readonly maxReadBytes: number;
  private readonly maxInflateBytes: number;
  /** Windows refused for reading past a bound (shown in `/api/index` as `zoom.refused`). */
  refused = 0;

  constructor(options: ZoomReaderOptions = {}) {
    this.cache = options.cache ?? new ZoomIndexCache();
    this.maxReadBytes = options.maxReadBytes ?? ZOOM_MAX_READ_BYTES;
    this.maxInflateBytes = options.maxInflateBytes ?? ZOOM_MAX_INFLATE_BYTES;
  }

  /** What `/api/index` shows of the zoom bounds. */
  counters(): {
    refused: number;
    indexBytesHeld: number;
    indexDropped: number;
    indexLoads: number;
    indexAdopted: number;
  } {
    return {
      refused: this.refused,
      indexBytesHeld: this.cache.heldBytes,
      indexDropped: this.cache.dropped,
      indexLoads: this.cache.loads,
      indexAdopted: this.cache.adopted,
    };
  }

  /** A fresh budget for one request. */
  budget(): ReadBudget {
    return { bytes: this.maxReadBytes };
  }

  /**
   * The series over [from, to] for a chart `width` pixels wide, or undefined when its streams
   * cannot answer from an index (no rows in one, rows without steps, an index too far behind, a
   * catalog series holding rows its catalog has not placed). `held`: the points the dashboard
   * holds of the series. Throws ZOOM_TOO_LARGE when the exact rows would read past `budget`.
   */
  async read(
    origins: readonly SeriesOrigin[],
    from: number,
    to: number,
    width: number,
    budget: ReadBudget,
    held: number,
  ): Promise<ZoomedSeries | undefined> {
    try {
      return await this.readOnce(origins, from, to, width, budget, held);
    } catch (error) {
      // A segment removed or renamed by rotation between the listing and the read: list again.
      if (errnoCode(error) !== 'ENOENT') throw error;
      return this.readOnce(origins, from, to, width, budget, held);
    }
  }

  /** The series' buckets in each file of its streams, from their run indexes (the cache). */
  private async indexedFiles(origins: readonly SeriesOrigin[]): Promise<FileSeries[] | undefined> {
    const files: FileSeries[] = [];
    for (const origin of origins) {
      const key = seriesKey(origin.runId, origin.phase, origin.name);
      for (const path of streamFiles(origin.activePath)) {
        const buckets = await this.cache.get(path, key);
        if (buckets === undefined) return undefined;
        if (buckets !== null) files.push({ path, origin, buckets });
      }
    }
    return files;
  }

  private async readOnce(
    origins: readonly SeriesOrigin[],
    from: number,
    to: number,
    width: number,
    budget: ReadBudget,
    held: number,
  ): Promise<ZoomedSeries | undefined> {
    const files = origins.some((o) => o.catalog !== undefined)
      ? catalogFiles(origins, held)
      : await this.indexedFiles(origins);
    if (files === undefined) return undefined;
    const all = files.map((f) => f.buckets);
    if (files.length === 0 || stepless(all)) return undefined;
    if (!exactWanted(countWindow(all, 0, from, to).rows, width)) {
      const level = envelopeLevel(all, from, to, width);
      return { mode: 'envelope', level, state: recordsToState(windowRecords(all, level, from, to)) };
    }
    const plans = files.map((f) => ({ ...f, ranges: mergeLineRanges(exactRanges(f.buckets, from, to)) }));
    const bytes = plans.reduce((sum, p) => sum + rangeBytes(p.ranges), 0);
    if (bytes > budget.bytes) {
      this.refused++;
      throw tooLarge(origins[0] as SeriesOrigin, from, to, bytes, this.maxReadBytes);
    }
    for (const p of plans) {
      const inflate = p.path.endsWith('.gz') ? (p.ranges.at(-1)?.lastLine ?? 0) : 0;
      if (inflate > this.maxInflateBytes) {
        this.refused++;
        throw tooLarge(p.origin, from, to, inflate, this.maxInflateBytes, p.path);
      }
    }
    const out: ExactRows = { mode: 'exact', step: [], ts: [], value: [] };
    for (const p of plans) {
      const tables = { names: new NameTable(), runs: new NameTable() };
      const visitor = new WindowRows(
        PHASE_NAMES.indexOf(p.origin.phase as (typeof PHASE_NAMES)[number]) as PhaseId,
        tables.names.idOfString(p.origin.name),
        p.origin.runId === '' ? -1 : tables.runs.idOfString(p.origin.runId),
        from,
        to,
      );
      const stats = await readLineRanges(p.path, p.ranges, visitor, tables, {
        linesWith: Buffer.from(JSON.stringify(p.origin.name)),
      });
      budget.bytes -= stats.parsed;
      out.step.push(...visitor.rows.step);
      out.ts.push(...visitor.rows.ts);
      out.value.push(...visitor.rows.value);
    }
    // Two streams feeding one series (rare) interleave by step; one stream keeps its logged order.
    if (origins.length > 1) sortByStep(out);
    return out;
  }
}

/**
 * A catalog series' level-0 buckets, as the one file of its stream (a catalog opens one plain
 * file), or undefined when they do not place every row the dashboard holds of it: rows read since
 * the open (the follower's) or fed by another stream have no known place, and the zoom draws the
 * buckets held instead.
 */
function catalogFiles(origins: readonly SeriesOrigin[], held: number): FileSeries[] | undefined {
  const origin = origins[0] as SeriesOrigin;
  const records = origins.length === 1 ? origin.catalog?.levelZero() : undefined;
  if (records === undefined) return undefined;
  let placed = 0;
  for (let o = 0; o < records.length; o += RECORD_COLUMNS) placed += records[o + COUNT] as number;
  if (placed !== held) return undefined;
  return [{ path: origin.activePath, origin, buckets: { levels: [records], open: new Float64Array(0) } }];
}

/** Bytes from each range's start to its last line's start: what it reads, short of that last line. */
function rangeBytes(ranges: readonly LineRange[]): number {
  return ranges.reduce((sum, r) => sum + (r.lastLine - r.start), 0);
}

function tooLarge(
  origin: SeriesOrigin,
  from: number,
  to: number,
  bytes: number,
  limit: number,
  gzip?: string,
): TelemetryError {
  const mib = (n: number): string => `${(n / 2 ** 20).toFixed(2)} MiB`;
  const what =
    gzip === undefined
      ? `would read ${mib(bytes)} of ${origin.activePath} and its segments (limit ${mib(limit)} a request)`
      : `would inflate ${mib(bytes)} of the gzip segment ${gzip} (limit ${mib(limit)})`;
  return new TelemetryError(
    'ZOOM_TOO_LARGE',
    `zooming ${origin.name} to steps ${from}–${to} ${what}; zoom into a narrower window`,
  );
}

function sortByStep(rows: ExactRows): void {
  const order = rows.step
    .map((_, i) => i)
    .sort((a, b) => (rows.step[a] as number) - (rows.step[b] as number));
  rows.step = order.map((i) => rows.step[i] as number);
  rows.ts = order.map((i) => rows.ts[i] as number);
  rows.value = order.map((i) => rows.value[i] as number);
}
