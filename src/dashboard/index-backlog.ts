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
import { LEVELS, readSelectedRuns, type SelectedRuns } from '../run-index/index-select.js';
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

/** Levels a bucket record can name (the builder keeps 12; the TensorBoard and W&B indexes too). */
const RECORD_LEVELS = 16;

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
  const loaded: OpenedIndex[] = [];
  const states: BucketSeriesState[][] = [];
  const stamps: string[] = [];
  let budget = maxScanBytes;
  for (const file of files) {
    // Stamped before the load: a file that grows meanwhile no longer matches what the zoom holds.
    stamps.push(fileStamp(fs.statSync(file)));
    // An index that accounts for the whole file: only the runs drawn are read.
    let levels: Int32Array | undefined;
    const selected = readSelectedRuns(file, (counts, defs) => {
      levels = firstRenderLevels(counts, defs.length, LEVELS);
      return wantedLevels(levels, LEVELS);
    });
    if (selected !== undefined) {
      const fileStates = bucketStatesOf(selected.defs, selected.records, selected.open, true, levels);
      if (fileStates === undefined) return undefined;
      loaded.push(selected);
      states.push(fileStates);
      await yieldToRequests();
      continue;
    }
    const index = await loadStreamIndexWithin(file, { maxScanBytes: budget });
    if (index === undefined) return undefined;
    // The page's own requests (its script, stylesheet) are served between the steps of the read.
    await yieldToRequests();
    const fileStates = bucketStatesOf(
      index.defs,
      index.blocks.map((b) => b.records),
      index.open,
    );
    if (fileStates === undefined) return undefined;
    budget -= index.scanned;
    loaded.push(index);
    states.push(fileStates);
  }
  loaded.forEach((index, i) => apply(index, states[i] as BucketSeriesState[], spec, store, runNames));
  // A whole index goes to the zoom as it is; one read in part is read again by the zoom, a series
  // at a time (zoom/index-cache.ts).
  loaded.forEach((index, i) => {
    if ('blocks' in index) zoomIndex?.adopt(files[i] as string, stamps[i] as string, index);
  });
  return {
    lastSeq: segments.reduce((last, segment) => Math.max(last, segment.seq), 0),
    inode,
    offset: inode === -1 ? 0 : (loaded.at(-1) as OpenedIndex).end,
    malformed: loaded
      .map((index, i) => ({ file: files[i] as string, ...index.malformed }))
      .filter((entry) => entry.count > 0),
  };
}

function yieldToRequests(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** An index loaded whole (stream-index.ts) or the runs of it a first render draws (index-select.ts). */
type OpenedIndex = LoadedIndex | SelectedRuns;

/**
 * Buckets per series on the first render: about one a pixel column of a chart (a series is held
 * at the finest level with at most this many finished buckets). A coarser level would draw fewer
 * than a chart has columns; a finer one is read for a zoom.
 */
export const FIRST_RENDER_BUCKETS = MAX_BUCKETS / 4;

/**
 * Per series, the level it is drawn at: the finest with at most FIRST_RENDER_BUCKETS finished
 * buckets (`counts[id * levels + level]`), or the coarsest it has when none is that small.
 */
export function firstRenderLevels(counts: Int32Array, series: number, levels: number): Int32Array {
  const chosen = new Int32Array(series);
  for (let id = 0; id < series; id++) {
    let l = 0;
    while (l < levels - 1 && (counts[id * levels + l] as number) > FIRST_RENDER_BUCKETS) l++;
    chosen[id] = l;
  }
  return chosen;
}

/** The picker's answer for one level per series (index-select.ts RunPicker). */
function wantedLevels(chosen: Int32Array, levels: number): Uint8Array {
  const wanted = new Uint8Array(chosen.length * levels);
  chosen.forEach((level, id) => (wanted[id * levels + level] = 1));
  return wanted;
}

/** Each series' buckets (see bucketStatesOf) into the store. */
function apply(
  index: OpenedIndex,
  states: readonly BucketSeriesState[],
  spec: StreamSpec,
  store: SeriesStore,
  runNames: RunNames,
): void {
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
  return bucketStatesOf(defs, records, open, false) as BucketSeriesState[];
}

/**
 * bucketStates, or undefined when `refuseStepless` and a bucket's rows have no step: rows without a
 * step are placed by their count, which buckets cannot give, so such a stream is read instead.
 * Two passes over the records (count, then copy into one array per series): the first render
 * waits on this, and a 60 MB index holds 430,000 records.
 */
export function bucketStatesOf(
  defs: readonly SeriesDef[],
  records: readonly Float64Array[],
  open: Float64Array,
  refuseStepless = true,
  chosen?: Int32Array,
): BucketSeriesState[] | undefined {
  const counts = new Int32Array(defs.length * RECORD_LEVELS);
  for (const d of records)
    for (let o = 0; o < d.length; o += R.RECORD_COLUMNS) {
      if (refuseStepless && Number.isNaN(d[o + R.FIRST_STEP])) return undefined;
      counts[(d[o + R.SERIES] as number) * RECORD_LEVELS + (d[o + R.LEVEL] as number)]++;
    }
  for (let o = 0; o < open.length; o += R.RECORD_COLUMNS)
    if (refuseStepless && Number.isNaN(open[o + R.FIRST_STEP])) return undefined;
  const level = chosen ?? firstRenderLevels(counts, defs.length, RECORD_LEVELS);
  const sizes = new Int32Array(defs.length);
  for (let id = 0; id < defs.length; id++)
    sizes[id] = counts[id * RECORD_LEVELS + (level[id] as number)] as number;
  for (let o = 0; o < open.length; o += R.RECORD_COLUMNS) {
    const id = open[o + R.SERIES] as number;
    if ((open[o + R.LEVEL] as number) <= (level[id] as number)) (sizes[id] as number)++;
  }
  // Each series' buckets go straight from the records into its state, a run (one series, one
  // level: record-runs.ts) at a time: no copy of the records per series in between, which at
  // 100 runs × 25 series was a million small copies and 144 MB of garbage.
  const states = defs.map((_, id) => emptyState(sizes[id] as number));
  for (const d of records) {
    const n = d.length / R.RECORD_COLUMNS;
    for (let first = 0; first < n;) {
      const o = first * R.RECORD_COLUMNS;
      const id = d[o + R.SERIES] as number;
      const at = d[o + R.LEVEL] as number;
      let end = first + 1;
      while (
        end < n &&
        d[end * R.RECORD_COLUMNS + R.SERIES] === id &&
        d[end * R.RECORD_COLUMNS + R.LEVEL] === at
      )
        end++;
      if (at === level[id]) fillState(states[id] as BucketSeriesState, d, first, end - first);
      first = end;
    }
  }
  for (let o = 0, b = 0; o < open.length; o += R.RECORD_COLUMNS, b++) {
    const id = open[o + R.SERIES] as number;
    if ((open[o + R.LEVEL] as number) <= (level[id] as number))
      fillState(states[id] as BucketSeriesState, open, b, 1);
  }
  return states;
}

/** A state with room for `buckets` buckets, none filled yet (fillState fills them). */
function emptyState(buckets: number): BucketSeriesState {
  return {
    data: new Float64Array(buckets * COLUMNS),
    length: 0,
    width: 1,
    points: 0,
    nan: 0,
    posInf: 0,
    negInf: 0,
    firstTs: NaN,
    lastStep: NaN,
  };
}

/** Index buckets as BucketSeries buckets (the time of a bucket's min and max: its first row's). */
export function recordsToState(records: ArrayLike<number>): BucketSeriesState {
  const length = records.length / R.RECORD_COLUMNS;
  const state = emptyState(length);
  fillState(state, records, 0, length);
  return state;
}

/** Appends `count` index records of `records`, from record `first` on, to `state` as its next buckets. */
function fillState(state: BucketSeriesState, records: ArrayLike<number>, first: number, count: number): void {
  const data = state.data;
  // Plain indexing, no helper per column: this runs once per bucket of every series on the first
  // render, in a process whose code is still cold.
  for (let k = 0; k < count; k++) {
    const b = state.length + k;
    const r = (first + k) * R.RECORD_COLUMNS;
    const o = b * COLUMNS;
    const nan = records[r + R.NAN] as number;
    const posInf = records[r + R.POS_INF] as number;
    const negInf = records[r + R.NEG_INF] as number;
    const rows = records[r + R.COUNT] as number;
    const firstStep = records[r + R.FIRST_STEP] as number;
    const lastStep = records[r + R.LAST_STEP] as number;
    const firstTs = records[r + R.FIRST_TS] as number;
    const lastTs = records[r + R.LAST_TS] as number;
    const minStep = records[r + R.MIN_STEP] as number;
    const maxStep = records[r + R.MAX_STEP] as number;
    const nonFinite = nan + posInf + negInf;
    data[o + B.X0] = firstStep;
    data[o + B.T0] = firstTs;
    data[o + B.XMIN] = minStep;
    data[o + B.TMIN] = minStep === lastStep ? lastTs : firstTs;
    data[o + B.VMIN] = records[r + R.MIN] as number;
    data[o + B.XMAX] = maxStep;
    data[o + B.TMAX] = maxStep === lastStep ? lastTs : firstTs;
    data[o + B.VMAX] = records[r + R.MAX] as number;
    data[o + B.SUM] = records[r + R.SUM] as number;
    data[o + B.FINITE] = rows - nonFinite;
    data[o + B.POINTS] = rows;
    data[o + B.NF] = (nan > 0 ? NF_NAN : 0) | (posInf > 0 ? NF_POS_INF : 0) | (negInf > 0 ? NF_NEG_INF : 0);
    data[o + B.XNF] = nonFinite > 0 ? firstStep : NaN;
    data[o + B.TNF] = nonFinite > 0 ? firstTs : NaN;
    if (rows > state.width) state.width = rows;
    state.points += rows;
    state.nan += nan;
    state.posInf += posInf;
    state.negInf += negInf;
    if (b === 0) state.firstTs = firstTs;
    state.lastStep = lastStep;
  }
  state.length += count;
}
