/**
 * The first read of a stream from its run index (src/run-index): every file of the stream (closed
 * segments, then the active file) is opened through its index, brought up to date by reading only
 * the rows after it, and each series enters the store as the index's buckets at the finest level
 * that fits a BucketSeries. The stream's rows are not read again, so the first page costs the
 * index's size, not the stream's. The indexes are then handed to the drag-zoom's index cache (when
 * given), so the page's first zoom does not read them again.
 */
import fs from 'node:fs';
import { errnoCode } from '../errors.js';
import { listSegments } from '../ndjson/segments.js';
import * as R from '../run-index/bucket-record.js';
import type { MalformedLine } from '../ndjson/line/metric-visitor.js';
import type { SeriesDef } from '../run-index/index-builder.js';
import { loadStreamIndexWithin, type LoadedIndex } from '../run-index/stream-index.js';
import {
  BUCKET as B,
  COLUMNS,
  MAX_BUCKETS,
  NF_NAN,
  NF_NEG_INF,
  NF_POS_INF,
  type BucketSeriesState,
} from './bucket-series.js';
import { chartPlace } from './chart-key.js';
import type { Phase } from '../step.js';
import type { StreamSpec } from './discover.js';
import type { RunNames } from './run-names.js';
import type { SeriesStore } from './series-store.js';
import { fileStamp, type ZoomIndexCache } from './zoom/index-cache.js';

/** Stream bytes worth reading in this thread to bring indexes up to date; past it, the parallel reader reads. */
export const INDEX_CATCH_UP_BYTES = 16 << 20;

export interface IndexedBacklog {
  lastSeq: number;
  inode: number;
  /** Where the follower goes on in the active file. */
  offset: number;
  /** Each file's malformed lines, from its index (their rows were not read again). */
  malformed: { file: string; count: number; samples: MalformedLine[] }[];
}

/** Smaller streams are read whole (every row exact): below this, reading costs less than 0.2 s. */
export const INDEX_MIN_BYTES = 16 << 20;

export async function readBacklogFromIndex(
  spec: StreamSpec,
  store: SeriesStore,
  runNames: RunNames,
  maxScanBytes = INDEX_CATCH_UP_BYTES,
  minBytes = INDEX_MIN_BYTES,
  zoomIndex?: ZoomIndexCache,
): Promise<IndexedBacklog | undefined> {
  const segments = listSegments(spec.activePath);
  const files = segments.map((segment) => segment.path);
  let inode = -1;
  let total = 0;
  try {
    const stat = fs.statSync(spec.activePath);
    inode = stat.ino;
    total += stat.size;
    files.push(spec.activePath);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  for (const segment of segments) total += fs.statSync(segment.path).size;
  if (total < minBytes) return undefined;
  const loaded: LoadedIndex[] = [];
  const stamps: string[] = [];
  let budget = maxScanBytes;
  for (const file of files) {
    // Stamped before the load: a file that grows meanwhile no longer matches what the zoom holds.
    stamps.push(fileStamp(fs.statSync(file)));
    const index = await loadStreamIndexWithin(file, { maxScanBytes: budget });
    if (index === undefined || stepless(index)) return undefined;
    budget -= index.scanned;
    loaded.push(index);
  }
  for (const index of loaded) apply(index, spec, store, runNames);
  loaded.forEach((index, i) => zoomIndex?.adopt(files[i] as string, stamps[i] as string, index));
  return {
    lastSeq: segments.reduce((last, segment) => Math.max(last, segment.seq), 0),
    inode,
    offset: inode === -1 ? 0 : (loaded.at(-1) as LoadedIndex).end,
    malformed: loaded
      .map((index, i) => ({ file: files[i] as string, ...index.malformed }))
      .filter((entry) => entry.count > 0),
  };
}

/** Rows without a step are placed by their count, which buckets cannot give: read those streams. */
function stepless(index: LoadedIndex): boolean {
  for (const d of [...index.blocks.map((b) => b.records), index.open])
    for (let o = 0; o < d.length; o += R.RECORD_COLUMNS) if (Number.isNaN(d[o + R.FIRST_STEP])) return true;
  return false;
}

/** Each series' buckets of one level, in stream order; open buckets (coarsest first) after them. */
function apply(index: LoadedIndex, spec: StreamSpec, store: SeriesStore, runNames: RunNames): void {
  const states = bucketStates(
    index.defs,
    index.blocks.map((b) => b.records),
    index.open,
  );
  index.defs.forEach((def, id) => {
    const state = states[id] as BucketSeriesState;
    if (state.points === 0) return;
    const phase = def.phase as Phase;
    const series = store.series(runNames.name(def.run), spec.rank, phase, def.name);
    series.append(state);
    store.origins.add(series, { activePath: spec.activePath, runId: def.run, phase, name: def.name });
    store.touch(chartPlace(phase, def.name).metric);
  });
}

/**
 * Per series (by id), its buckets at the finest level that fits a BucketSeries, as one: finished
 * buckets in stream order, then open ones (coarsest first). Shared with the TensorBoard run index.
 */
export function bucketStates(
  defs: readonly SeriesDef[],
  records: readonly Float64Array[],
  open: Float64Array,
): BucketSeriesState[] {
  const counts = defs.map(() => new Int32Array(16));
  for (const d of records)
    for (let o = 0; o < d.length; o += R.RECORD_COLUMNS)
      (counts[d[o + R.SERIES] as number] as Int32Array)[d[o + R.LEVEL] as number]++;
  // The finest level that fits, so merging in the BucketSeries loses least.
  const level = counts.map((byLevel) => {
    let l = 0;
    while (l < byLevel.length - 1 && (byLevel[l] as number) > MAX_BUCKETS / 2) l++;
    return l;
  });
  const parts = defs.map((): number[] => []);
  const take = (d: Float64Array, o: number): void => {
    (parts[d[o + R.SERIES] as number] as number[]).push(...d.subarray(o, o + R.RECORD_COLUMNS));
  };
  for (const d of records)
    for (let o = 0; o < d.length; o += R.RECORD_COLUMNS)
      if (d[o + R.LEVEL] === level[d[o + R.SERIES] as number]) take(d, o);
  for (let o = 0; o < open.length; o += R.RECORD_COLUMNS)
    if ((open[o + R.LEVEL] as number) <= (level[open[o + R.SERIES] as number] as number)) take(open, o);
  return parts.map((part) => recordsToState(part));
}

/** Index buckets as BucketSeries buckets (the time of a bucket's min and max: its first row's). */
export function recordsToState(records: readonly number[]): BucketSeriesState {
  const length = records.length / R.RECORD_COLUMNS;
  const data = new Float64Array(length * COLUMNS);
  const state: BucketSeriesState = {
    data,
    length,
    width: 1,
    points: 0,
    nan: 0,
    posInf: 0,
    negInf: 0,
    firstTs: NaN,
    lastStep: NaN,
  };
  for (let b = 0; b < length; b++) {
    const r = b * R.RECORD_COLUMNS;
    const o = b * COLUMNS;
    const at = (column: number): number => records[r + column] as number;
    const nan = at(R.NAN);
    const posInf = at(R.POS_INF);
    const negInf = at(R.NEG_INF);
    data[o + B.X0] = at(R.FIRST_STEP);
    data[o + B.T0] = at(R.FIRST_TS);
    data[o + B.XMIN] = at(R.MIN_STEP);
    data[o + B.TMIN] = at(R.MIN_STEP) === at(R.LAST_STEP) ? at(R.LAST_TS) : at(R.FIRST_TS);
    data[o + B.VMIN] = at(R.MIN);
    data[o + B.XMAX] = at(R.MAX_STEP);
    data[o + B.TMAX] = at(R.MAX_STEP) === at(R.LAST_STEP) ? at(R.LAST_TS) : at(R.FIRST_TS);
    data[o + B.VMAX] = at(R.MAX);
    data[o + B.SUM] = at(R.SUM);
    data[o + B.FINITE] = at(R.COUNT) - nan - posInf - negInf;
    data[o + B.POINTS] = at(R.COUNT);
    data[o + B.NF] = (nan > 0 ? NF_NAN : 0) | (posInf > 0 ? NF_POS_INF : 0) | (negInf > 0 ? NF_NEG_INF : 0);
    data[o + B.XNF] = nan + posInf + negInf > 0 ? at(R.FIRST_STEP) : NaN;
    data[o + B.TNF] = nan + posInf + negInf > 0 ? at(R.FIRST_TS) : NaN;
    state.width = Math.max(state.width, at(R.COUNT));
    state.points += at(R.COUNT);
    state.nan += nan;
    state.posInf += posInf;
    state.negInf += negInf;
    if (b === 0) state.firstTs = at(R.FIRST_TS);
    state.lastStep = at(R.LAST_STEP);
  }
  return state;
}
