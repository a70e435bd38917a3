/**
 * The first read of a stream from its run index (src/run-index): every file of the stream (closed
 * segments, then the active file) is opened through its index and each series enters the store as
 * the index's buckets at about one a pixel column (index-buckets.ts). An index that accounts for
 * its whole file is read in part, only the runs drawn (index-select.ts); any other is loaded whole,
 * brought up to date by reading only the rows after it, and handed to the drag-zoom's index cache
 * (when given), so the page's first zoom does not read it again. The stream's rows are not read
 * again, so the first page costs what it draws of the index, not the stream.
 */
import fs from 'node:fs';
import { errnoCode } from '../errors.js';
import { listSegments } from '../ndjson/segments.js';
import type { MalformedLine } from '../ndjson/line/metric-visitor.js';
import { LEVELS, readSelectedRuns, RecordScratch, type SelectedRuns } from '../run-index/index-select.js';
import { loadStreamIndexWithin, type LoadedIndex } from '../run-index/stream-index.js';
import type { BucketSeriesState } from './bucket-series.js';
import { chartPlace } from './chart-key.js';
import {
  coarsestLevels,
  DEFERRED_MAX_BLOCKS,
  deferredSeries,
  type DeferredSeries,
} from './deferred-series.js';
import { bucketStatesOf, firstRenderLevels } from './index-buckets.js';
import type { Phase } from '../step.js';
import type { StreamSpec } from './discover.js';
import type { RunNames } from './run-names.js';
import type { SeriesStore } from './series-store.js';
import { fileStamp, type ZoomIndexCache } from './zoom/index-cache.js';

/** Where the first render's records are read, one stream after another (index-select.ts RecordScratch). */
const SCRATCH = new RecordScratch();

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
  const loaded: OpenedIndex[] = [];
  const states: (BucketSeriesState | DeferredSeries)[][] = [];
  const stamps: string[] = [];
  let budget = maxScanBytes;
  for (const file of files) {
    // Stamped before the load: a file that grows meanwhile no longer matches what the zoom holds.
    stamps.push(fileStamp(fs.statSync(file)));
    // An index that accounts for the whole file: only the runs drawn are read, or, from an index
    // of few blocks, each series' coarsest runs now and the runs drawn when its chart is asked for
    // (deferred-series.ts).
    let levels: Int32Array | undefined;
    let coarsest: Int32Array | undefined;
    // Its records are turned into series states before the next read takes the scratch again.
    const selected = readSelectedRuns(
      file,
      (counts, defs, blocks) => {
        levels = firstRenderLevels(counts, defs.length, LEVELS);
        if (blocks > DEFERRED_MAX_BLOCKS) return wantedLevels(levels, LEVELS);
        coarsest = coarsestLevels(counts, defs.length, LEVELS);
        return wantedLevels(coarsest, LEVELS);
      },
      process.env,
      SCRATCH.reset(),
    );
    if (selected !== undefined) {
      const fileStates =
        coarsest === undefined
          ? bucketStatesOf(selected.defs, selected.records, selected.open, true, levels)
          : deferredSeries(selected, levels as Int32Array, coarsest);
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
  loaded.forEach((index, i) =>
    apply(index, states[i] as (BucketSeriesState | DeferredSeries)[], spec, store, runNames),
  );
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

/** The picker's answer for one level per series (index-select.ts RunPicker). */
function wantedLevels(chosen: Int32Array, levels: number): Uint8Array {
  const wanted = new Uint8Array(chosen.length * levels);
  chosen.forEach((level, id) => (wanted[id * levels + level] = 1));
  return wanted;
}

/** Each series' buckets (see bucketStatesOf), or how to read them when drawn, into the store. */
function apply(
  index: OpenedIndex,
  states: readonly (BucketSeriesState | DeferredSeries)[],
  spec: StreamSpec,
  store: SeriesStore,
  runNames: RunNames,
): void {
  index.defs.forEach((def, id) => {
    const state = states[id] as BucketSeriesState | DeferredSeries;
    if (state.points === 0) return;
    const phase = def.phase as Phase;
    const series = store.series(runNames.name(def.run), spec.rank, phase, def.name);
    if ('load' in state) series.defer(state.load, state.points);
    else series.append(state);
    store.origins.add(series, { activePath: spec.activePath, runId: def.run, phase, name: def.name });
    store.touch(chartPlace(phase, def.name).metric);
  });
}
