/**
 * The index builder's state of every series, as arrays shared by many series (struct of arrays):
 * per level, each series' open bucket (RECORD_COLUMNS numbers), the children merged into it and
 * the buckets emitted at that level; per series, the levels it uses and the last row indexed.
 *
 * Series are stored in chunks of CHUNK_SERIES, and a level's arrays of a chunk exist once one of
 * its series reaches that level. A stream of a million one-row names used to hold an object and
 * three typed arrays per series (about 1.1 KB of heap and 300 B of buffers each); here it holds
 * about 170 bytes a series per level it uses, in a few thousand arrays.
 */
import { RECORD_COLUMNS } from './bucket-record.js';

/** Series per chunk: a run of a few dozen series holds one chunk of each level it uses (37 KB). */
const CHUNK_SHIFT = 8;
export const CHUNK_SERIES = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SERIES - 1;

interface LevelChunks {
  /** Open bucket of each series (COUNT 0: none). */
  open: (Float64Array | undefined)[];
  /** Children merged into each series' open bucket. */
  children: (Int32Array | undefined)[];
  /** Buckets emitted by each series (finished ones, read back from the file included). */
  emitted: (Int32Array | undefined)[];
}

export class SeriesStates {
  /** Series held. */
  length = 0;
  private readonly levelChunks: LevelChunks[];
  /** Levels each series uses: its highest level reached, plus one (at least 1). */
  private readonly levelCounts: Uint8Array[] = [];
  /** LAST_OFFSET of each series' last emitted level-0 bucket: rows at or before it are indexed. */
  private readonly coveredChunks: Float64Array[] = [];

  constructor(maxLevels: number) {
    this.levelChunks = Array.from({ length: maxLevels }, () => ({ open: [], children: [], emitted: [] }));
  }

  /** A new series, with an empty level 0. Returns its number. */
  add(): number {
    const series = this.length++;
    const chunk = series >> CHUNK_SHIFT;
    if ((series & CHUNK_MASK) === 0) {
      this.levelCounts.push(new Uint8Array(CHUNK_SERIES));
      this.coveredChunks.push(new Float64Array(CHUNK_SERIES).fill(-1));
      this.allocate(0, chunk);
    }
    (this.levelCounts[chunk] as Uint8Array)[series & CHUNK_MASK] = 1;
    return series;
  }

  /** Levels `series` uses (its open buckets are at levels below this). */
  levels(series: number): number {
    return (this.levelCounts[series >> CHUNK_SHIFT] as Uint8Array)[series & CHUNK_MASK] as number;
  }

  /** Makes room for `level`'s open bucket of `series`. */
  reach(series: number, level: number): void {
    const chunk = series >> CHUNK_SHIFT;
    const counts = this.levelCounts[chunk] as Uint8Array;
    const i = series & CHUNK_MASK;
    if (level < (counts[i] as number)) return;
    for (let l = 1; l <= level; l++)
      if ((this.levelChunks[l] as LevelChunks).open[chunk] === undefined) this.allocate(l, chunk);
    counts[i] = level + 1;
  }

  /** The array that holds the open bucket of `series` at `level`, at `bucketAt(series)`. */
  open(series: number, level: number): Float64Array {
    return (this.levelChunks[level] as LevelChunks).open[series >> CHUNK_SHIFT] as Float64Array;
  }

  /** Where the open bucket of `series` starts in its `open()` array. */
  bucketAt(series: number): number {
    return (series & CHUNK_MASK) * RECORD_COLUMNS;
  }

  children(series: number, level: number): Int32Array {
    return (this.levelChunks[level] as LevelChunks).children[series >> CHUNK_SHIFT] as Int32Array;
  }

  emitted(series: number, level: number): Int32Array {
    return (this.levelChunks[level] as LevelChunks).emitted[series >> CHUNK_SHIFT] as Int32Array;
  }

  /** Where `series` is in its `children()`, `emitted()` and `covered()` arrays. */
  slot(series: number): number {
    return series & CHUNK_MASK;
  }

  covered(series: number): Float64Array {
    return this.coveredChunks[series >> CHUNK_SHIFT] as Float64Array;
  }

  /** Empties every open bucket of `series` at `level` and above. */
  clearFrom(series: number, level: number): void {
    const at = this.bucketAt(series);
    for (let l = level; l < this.levels(series); l++) this.open(series, l).fill(0, at, at + RECORD_COLUMNS);
  }

  private allocate(level: number, chunk: number): void {
    const chunks = this.levelChunks[level] as LevelChunks;
    chunks.open[chunk] = new Float64Array(CHUNK_SERIES * RECORD_COLUMNS);
    chunks.children[chunk] = new Int32Array(CHUNK_SERIES);
    chunks.emitted[chunk] = new Int32Array(CHUNK_SERIES);
  }
}
