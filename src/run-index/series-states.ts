/**
 * The index builder's state of every series, as arrays shared by many series (struct of arrays):
 * per level, each series' open bucket, the children merged into it and the buckets emitted at
 * that level; per series, the levels it uses and the last row indexed.
 *
 * Series are stored in chunks of CHUNK_SERIES, and a level's arrays of a chunk exist once one of
 * its series reaches that level. A chunk's open buckets start compact: a bucket of one row is
 * kept as that row's ROW_COLUMNS numbers (step, time, value, offset), from which openBucket()
 * gives its record, and its children are 0 at level 0 and 1 above (a one-row bucket has one
 * child). The chunk becomes full (RECORD_COLUMNS numbers and a child count a series) once one of
 * its buckets takes a second row or a merge. A stream of a million one-row names keeps each
 * series' open level-0 and level-1 buckets in 36 bytes each, not 152.
 */
import { COUNT, OFFSET, openBucket, RECORD_COLUMNS } from './bucket-record.js';

/** Series per chunk: a run of a few dozen series holds one chunk of each level it uses (37 KB). */
const CHUNK_SHIFT = 8;
export const CHUNK_SERIES = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SERIES - 1;

/** A compact bucket: its one row's step, time, value and line offset (−1: no bucket open). */
export const ROW_COLUMNS = 4;
const ROW_STEP = 0;
const ROW_TS = 1;
const ROW_VALUE = 2;
const ROW_OFFSET = 3;

interface LevelChunks {
  /** Full open buckets of each series (COUNT 0: none); undefined while the chunk is compact. */
  open: (Float64Array | undefined)[];
  /** Children merged into each series' open bucket, with `open`. */
  children: (Int32Array | undefined)[];
  /** Compact open buckets (one row or none) of each series; undefined once the chunk is full. */
  rows: (Float64Array | undefined)[];
  /** Buckets emitted by each series (finished ones, read back from the file included). */
  emitted: (Int32Array | undefined)[];
}

export class SeriesStates {
  /** Series held. */
  length = 0;
  /** Chunks made full (a bucket of a compact chunk took a second row or a merge). */
  fullChunks = 0;
  private readonly levelChunks: LevelChunks[];
  /** Levels each series uses: its highest level reached, plus one (at least 1). */
  private readonly levelCounts: Uint8Array[] = [];
  /** LAST_OFFSET of each series' last emitted level-0 bucket: rows at or before it are indexed. */
  private readonly coveredChunks: Float64Array[] = [];

  constructor(maxLevels: number) {
    this.levelChunks = Array.from({ length: maxLevels }, () => ({
      open: [],
      children: [],
      rows: [],
      emitted: [],
    }));
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
      if ((this.levelChunks[l] as LevelChunks).emitted[chunk] === undefined) this.allocate(l, chunk);
    counts[i] = level + 1;
  }

  /**
   * The array that holds the open bucket of `series` at `level`, at `bucketAt(series)`; a compact
   * chunk is made full first.
   */
  open(series: number, level: number): Float64Array {
    return this.full(series, level) ?? this.makeFull(series >> CHUNK_SHIFT, level);
  }

  /** As open(), or undefined while the chunk of `series` at `level` is compact. */
  full(series: number, level: number): Float64Array | undefined {
    return (this.levelChunks[level] as LevelChunks).open[series >> CHUNK_SHIFT];
  }

  /** Where the open bucket of `series` starts in its `open()` array. */
  bucketAt(series: number): number {
    return (series & CHUNK_MASK) * RECORD_COLUMNS;
  }

  /** Children of the full chunk of `series` at `level` (call open() or full() first). */
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

  /** Rows (and merged buckets) in the open bucket of `series` at `level` (0: none open). */
  count(series: number, level: number): number {
    const full = this.full(series, level);
    if (full !== undefined) return full[this.bucketAt(series) + COUNT] as number;
    return this.rowOffset(series, level) >= 0 ? 1 : 0;
  }

  /** Offset of the first row's line of the open bucket of `series` at `level` (one is open). */
  firstOffset(series: number, level: number): number {
    const full = this.full(series, level);
    if (full !== undefined) return full[this.bucketAt(series) + OFFSET] as number;
    return this.rowOffset(series, level);
  }

  /** Children merged into the open bucket of `series` at `level`. */
  childrenOf(series: number, level: number): number {
    if (this.full(series, level) !== undefined)
      return this.children(series, level)[this.slot(series)] as number;
    return level > 0 && this.rowOffset(series, level) >= 0 ? 1 : 0;
  }

  /** The compact bucket's row: its step, or its offset (−1: none open). Compact chunks only. */
  rowStep(series: number, level: number): number {
    return this.rows(series, level)[(series & CHUNK_MASK) * ROW_COLUMNS + ROW_STEP] as number;
  }

  rowOffset(series: number, level: number): number {
    const rows = (this.levelChunks[level] as LevelChunks).rows[series >> CHUNK_SHIFT];
    // A chunk let go of by releaseEmpty() has no bucket open.
    return rows === undefined ? -1 : (rows[(series & CHUNK_MASK) * ROW_COLUMNS + ROW_OFFSET] as number);
  }

  /** Opens the compact bucket of `series` at `level` with one row. Compact chunks only. */
  setRow(series: number, level: number, step: number, ts: number, value: number, offset: number): void {
    const chunks = this.levelChunks[level] as LevelChunks;
    const rows = (chunks.rows[series >> CHUNK_SHIFT] ??= emptyRows());
    const at = (series & CHUNK_MASK) * ROW_COLUMNS;
    rows[at + ROW_STEP] = step;
    rows[at + ROW_TS] = ts;
    rows[at + ROW_VALUE] = value;
    rows[at + ROW_OFFSET] = offset;
  }

  /** Writes the open bucket of `series` at `level` as a record into `to` at `t`. */
  writeBucket(series: number, level: number, to: Float64Array, t: number): void {
    const full = this.full(series, level);
    if (full !== undefined) {
      const o = this.bucketAt(series);
      // Number by number: a subarray to copy from is an object per bucket.
      for (let c = 0; c < RECORD_COLUMNS; c++) to[t + c] = full[o + c] as number;
      return;
    }
    const rows = this.rows(series, level);
    const at = (series & CHUNK_MASK) * ROW_COLUMNS;
    openBucket(
      to,
      t,
      series,
      level,
      rows[at + ROW_STEP] as number,
      rows[at + ROW_TS] as number,
      rows[at + ROW_VALUE] as number,
      rows[at + ROW_OFFSET] as number,
    );
  }

  /** Empties the open bucket of `series` at `level`, and its children. */
  clear(series: number, level: number): void {
    const full = this.full(series, level);
    if (full === undefined) {
      const rows = (this.levelChunks[level] as LevelChunks).rows[series >> CHUNK_SHIFT];
      if (rows !== undefined) rows[(series & CHUNK_MASK) * ROW_COLUMNS + ROW_OFFSET] = -1;
      return;
    }
    full[this.bucketAt(series) + COUNT] = 0;
    this.children(series, level)[this.slot(series)] = 0;
  }

  /** Empties every open bucket of `series` at `level` and above. */
  clearFrom(series: number, level: number): void {
    const at = this.bucketAt(series);
    for (let l = level; l < this.levels(series); l++) {
      const full = this.full(series, l);
      if (full === undefined) this.clear(series, l);
      else full.fill(0, at, at + RECORD_COLUMNS);
    }
  }

  private rows(series: number, level: number): Float64Array {
    return (this.levelChunks[level] as LevelChunks).rows[series >> CHUNK_SHIFT] as Float64Array;
  }

  /**
   * Lets go of the compact chunks of `level` with no bucket open (allocated again when one
   * opens): the level-0 rows of a million one-row names whose buckets a cut closed, 32 MB. Returns
   * the chunks let go of.
   */
  releaseEmpty(level: number): number {
    const all = (this.levelChunks[level] as LevelChunks).rows;
    let released = 0;
    for (let chunk = 0; chunk < all.length; chunk++) {
      const rows = all[chunk];
      if (rows === undefined) continue;
      let open = false;
      for (let at = ROW_OFFSET; at < rows.length && !open; at += ROW_COLUMNS)
        open = (rows[at] as number) >= 0;
      if (open) continue;
      all[chunk] = undefined;
      released++;
    }
    return released;
  }

  private allocate(level: number, chunk: number): void {
    const chunks = this.levelChunks[level] as LevelChunks;
    chunks.rows[chunk] = emptyRows();
    chunks.emitted[chunk] = new Int32Array(CHUNK_SERIES);
  }

  /** Turns the compact chunk of `level` into full buckets, each one-row bucket as openBucket() gives it. */
  private makeFull(chunk: number, level: number): Float64Array {
    const chunks = this.levelChunks[level] as LevelChunks;
    const rows = chunks.rows[chunk] ?? emptyRows();
    const open = new Float64Array(CHUNK_SERIES * RECORD_COLUMNS);
    const children = new Int32Array(CHUNK_SERIES);
    for (let i = 0; i < CHUNK_SERIES; i++) {
      const at = i * ROW_COLUMNS;
      if ((rows[at + ROW_OFFSET] as number) < 0) continue;
      openBucket(
        open,
        i * RECORD_COLUMNS,
        (chunk << CHUNK_SHIFT) + i,
        level,
        rows[at + ROW_STEP] as number,
        rows[at + ROW_TS] as number,
        rows[at + ROW_VALUE] as number,
        rows[at + ROW_OFFSET] as number,
      );
      children[i] = level > 0 ? 1 : 0;
    }
    chunks.open[chunk] = open;
    chunks.children[chunk] = children;
    chunks.rows[chunk] = undefined;
    this.fullChunks++;
    return open;
  }
}

/** Compact buckets of a chunk, none open. */
function emptyRows(): Float64Array {
  return new Float64Array(CHUNK_SERIES * ROW_COLUMNS).fill(-1);
}
