/**
 * The index builder as it was before its per-series state became arrays shared by many series
 * (src/run-index/series-states.ts): an object and three typed arrays per series. Kept here so that
 * tests can check the builder writes the same bytes as this one, for the same rows and cuts. One
 * change: a row that closed the bucket before it while the series grew a level was written into
 * the series' old arrays and lost (see "keeps the row that closes a bucket ..." in
 * index-builder.test.ts); here it is kept, as the builder now does.
 */
import {
  addRow,
  copyBucket,
  COUNT,
  FANOUT,
  LAST_OFFSET,
  LEVEL,
  LEVEL0_ROWS,
  mergeBucket,
  OFFSET,
  openBucket,
  LAST_STEP,
  RECORD_COLUMNS,
  SERIES,
} from '../../src/run-index/bucket-record.js';
import type { MalformedLine } from '../../src/ndjson/line/metric-visitor.js';
import { groupRuns, RUN_FIELDS } from '../../src/run-index/record-runs.js';
import {
  DEFAULT_RESCAN_BYTES,
  MALFORMED_SAMPLES,
  MAX_LEVELS,
  MAX_STATE_BUCKETS,
  SPAN_BYTES,
  type IndexBlock,
  type OpenState,
  type SeriesDef,
} from '../../src/run-index/index-builder.js';

class SeriesState {
  /**
   * Open bucket per level (COUNT 0: none), for the levels used so far: a series of a few rows
   * uses one or two, and a run with a million names holds a million of these.
   */
  open = new Float64Array(2 * RECORD_COLUMNS);
  /** Children merged into each level's open bucket. */
  children = new Int32Array(2);
  /** Buckets emitted per level (finished ones, read back from the file included). */
  emitted = new Int32Array(2);
  /** LAST_OFFSET of the last emitted level-0 bucket: rows at or before it are indexed. */
  covered = -1;

  /** Levels this state has room for. */
  get levels(): number {
    return this.children.length;
  }

  /** Makes room for `level`'s open bucket. */
  reach(level: number): void {
    if (level < this.levels) return;
    const levels = Math.min(MAX_LEVELS, Math.max(level + 1, this.levels * 2));
    const open = new Float64Array(levels * RECORD_COLUMNS);
    open.set(this.open);
    this.open = open;
    const children = new Int32Array(levels);
    children.set(this.children);
    this.children = children;
    const emitted = new Int32Array(levels);
    emitted.set(this.emitted);
    this.emitted = emitted;
  }
}

export class ReferenceIndexBuilder {
  readonly defs: SeriesDef[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly states: SeriesState[] = [];
  private newDefs = 0;
  private out = new Float64Array(64 * RECORD_COLUMNS);
  private outLength = 0;
  private malformedCount = 0;
  private malformedSamples: MalformedLine[] = [];
  /** Samples kept in earlier blocks. */
  private samplesBefore = 0;

  constructor(private readonly rescanBytes = DEFAULT_RESCAN_BYTES) {}

  /** Bytes of finished bucket records held until the next cut. */
  get heldBytes(): number {
    return this.outLength * RECORD_COLUMNS * 8;
  }

  /** The id of a series, defined on first use. */
  seriesId(run: string, phase: string, name: string): number {
    const key = `${run}\u0000${phase}\u0000${name}`;
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.defs.length;
      this.byKey.set(key, id);
      this.defs.push({ id, run, phase, name });
      this.states.push(new SeriesState());
    }
    return id;
  }

  /** One row of a series, from the line starting at byte `offset`. */
  add(series: number, step: number, ts: number, value: number, offset: number): void {
    const state = this.states[series] as SeriesState;
    let d = state.open;
    if (d[COUNT] !== 0 && offset - (d[OFFSET] as number) > SPAN_BYTES) this.close(state, 0);
    // A step going back (a restarted run) starts a new bucket, so a level-0 bucket's steps never go
    // back and its first and last steps bound them: a zoom's window finds every row it holds.
    else if (d[COUNT] !== 0 && step < (d[LAST_STEP] as number)) this.close(state, 0);
    // The one change (see the top): the close may have grown state.open.
    d = state.open;
    if (d[COUNT] === 0) openBucket(d, 0, series, 0, step, ts, value, offset);
    else addRow(d, 0, step, ts, value, offset);
    if ((d[COUNT] as number) >= LEVEL0_ROWS) this.close(state, 0);
  }

  /** A malformed line past the previous block's end (one before it is counted there already). */
  malformed(line: MalformedLine): void {
    this.malformedCount++;
    if (this.samplesBefore + this.malformedSamples.length < MALFORMED_SAMPLES)
      this.malformedSamples.push(line);
  }

  /** Rows at or before this offset are already in a bucket of the series (a re-read skips them). */
  covered(series: number): number {
    return this.states[series]?.covered ?? -1;
  }

  /**
   * Takes what was emitted since the last cut, for stream bytes up to `end`. `final` closes every
   * open bucket first (end of a segment, a writer that exits). `withState` (a reader, which cuts
   * once per open) puts the open buckets in the block, up to MAX_STATE_BUCKETS: the next reader
   * takes them up instead of re-reading rows (1.7 MB of stream at 20 scalars, for the sparse
   * system series' open bucket) and rebuilding them from every record. A writer cuts a block a
   * flush, so it leaves them out.
   */
  cut(end: number, final = false, withState = false): IndexBlock {
    const oldest = end - this.rescanBytes;
    for (const state of this.states) {
      if (final) {
        for (let level = 0; level < state.levels; level++) {
          if (state.open[level * RECORD_COLUMNS + COUNT] === 0) continue;
          // A level whose series fits in one bucket is the series' coarsest: a level above it
          // would copy that bucket, so a series of a few rows would cost MAX_LEVELS records.
          if (level > 0 && (state.emitted[level - 1] as number) <= 1) {
            state.open.fill(0, level * RECORD_COLUMNS);
            break;
          }
          this.close(state, level);
        }
      } else if (state.open[COUNT] !== 0 && (state.open[OFFSET] as number) < oldest) this.close(state, 0);
    }
    const open = withState && !final ? this.openState() : undefined;
    let resume = end;
    if (open === undefined)
      for (const state of this.states)
        if (state.open[COUNT] !== 0) resume = Math.min(resume, state.open[OFFSET] as number);
    const used = this.outLength * RECORD_COLUMNS;
    // A block that fills most of the buffer takes it as it is (a reader's first block of a big
    // stream: 60 MB at 20 scalars × 1,000,000 steps, which a copy would double), and the builder
    // starts a new one; a small block (a writer's flush) is copied, so it holds no spare room.
    let records: Float64Array;
    if (used * 2 >= this.out.length) {
      records = this.out.subarray(0, used);
      this.out = new Float64Array(64 * RECORD_COLUMNS);
    } else records = this.out.slice(0, used);
    const block: IndexBlock = {
      end,
      resume,
      final,
      defs: this.defs.slice(this.newDefs),
      records,
      runs: groupRuns(records),
      ...(open === undefined ? {} : { state: open }),
      malformed: { count: this.malformedCount, samples: this.malformedSamples },
    };
    this.newDefs = this.defs.length;
    this.outLength = 0;
    this.samplesBefore += this.malformedSamples.length;
    this.malformedCount = 0;
    this.malformedSamples = [];
    return block;
  }

  /**
   * Takes up the state a writer had after the given blocks (read back from an index file): series,
   * and every open bucket above level 0. Open level-0 buckets come back as the caller re-reads rows
   * after `covered()` from the last block's `resume`.
   */
  restore(blocks: readonly IndexBlock[]): void {
    const last = blocks.at(-1);
    if (last?.state !== undefined) {
      this.restoreState(blocks, last.state, last.end);
      return;
    }
    for (const block of blocks) {
      for (const def of block.defs) this.seriesId(def.run, def.phase, def.name);
      const r = block.records;
      for (let o = 0; o < r.length; o += RECORD_COLUMNS) {
        const state = this.states[r[o + SERIES] as number] as SeriesState;
        const level = r[o + LEVEL] as number;
        state.reach(level);
        (state.emitted[level] as number)++;
        if (level !== 0) continue;
        state.covered = r[o + LAST_OFFSET] as number;
        this.propagate(state, r, o, 1, false);
      }
      if (block.final) for (const state of this.states) state.open.fill(0, RECORD_COLUMNS);
      this.samplesBefore += block.malformed?.samples.length ?? 0;
    }
    this.newDefs = this.defs.length;
    this.outLength = 0;
  }

  /**
   * restore() from the open buckets the last block carries: each series' emitted buckets are
   * counted from the blocks' runs, no record is merged again, and every row before `end` is
   * covered (it is in a finished bucket or an open one).
   */
  private restoreState(blocks: readonly IndexBlock[], open: OpenState, end: number): void {
    for (const block of blocks) {
      for (const def of block.defs) this.seriesId(def.run, def.phase, def.name);
      const runs = block.runs ?? groupRuns(block.records);
      for (let r = 0; r < runs.length; r += RUN_FIELDS) {
        const state = this.states[runs[r] as number] as SeriesState;
        const level = runs[r + 1] as number;
        state.reach(level);
        (state.emitted[level] as number) += runs[r + 2] as number;
      }
      this.samplesBefore += block.malformed?.samples.length ?? 0;
    }
    for (const state of this.states) state.covered = end - 1;
    const d = open.open;
    for (let i = 0, o = 0; o < d.length; i++, o += RECORD_COLUMNS) {
      const state = this.states[d[o + SERIES] as number] as SeriesState;
      const level = d[o + LEVEL] as number;
      state.reach(level);
      state.open.set(d.subarray(o, o + RECORD_COLUMNS), level * RECORD_COLUMNS);
      state.children[level] = open.children[i] as number;
    }
    this.newDefs = this.defs.length;
    this.outLength = 0;
  }

  /** The open buckets of every series, or undefined past MAX_STATE_BUCKETS. */
  private openState(): OpenState | undefined {
    let count = 0;
    for (const state of this.states)
      for (let level = 0; level < state.levels; level++)
        if (state.open[level * RECORD_COLUMNS + COUNT] !== 0) count++;
    if (count > MAX_STATE_BUCKETS) return undefined;
    const open = new Float64Array(count * RECORD_COLUMNS);
    const children = new Uint32Array(count);
    let i = 0;
    // Coarsest first, as openBuckets() gives them: a reader draws them in this order.
    for (const state of this.states)
      for (let level = state.levels - 1; level >= 0; level--) {
        const o = level * RECORD_COLUMNS;
        if (state.open[o + COUNT] === 0) continue;
        open.set(state.open.subarray(o, o + RECORD_COLUMNS), i * RECORD_COLUMNS);
        children[i++] = state.children[level] as number;
      }
    return { open, children };
  }

  /** The open (unfinished) buckets of every level, for a reader that shows everything up to now. */
  openBuckets(): Float64Array {
    const out: number[] = [];
    for (const state of this.states)
      for (let level = state.levels - 1; level >= 0; level--) {
        const o = level * RECORD_COLUMNS;
        if (state.open[o + COUNT] !== 0) out.push(...state.open.subarray(o, o + RECORD_COLUMNS));
      }
    return Float64Array.from(out);
  }

  private close(state: SeriesState, level: number): void {
    const d = state.open;
    const o = level * RECORD_COLUMNS;
    this.emit(d, o);
    (state.emitted[level] as number)++;
    if (level === 0) state.covered = d[o + LAST_OFFSET] as number;
    d[o + COUNT] = 0;
    state.children[level] = 0;
    if (level + 1 < MAX_LEVELS)
      this.propagate(state, this.out, (this.outLength - 1) * RECORD_COLUMNS, level + 1, true);
  }

  /** Merges a finished bucket into the open bucket of `level`, closing it after FANOUT children. */
  private propagate(state: SeriesState, from: Float64Array, f: number, level: number, emit: boolean): void {
    if (level >= MAX_LEVELS) return;
    state.reach(level);
    const d = state.open;
    const o = level * RECORD_COLUMNS;
    if (d[o + COUNT] === 0) copyBucket(d, o, from, f, level);
    else mergeBucket(d, o, from, f);
    if (++(state.children[level] as number) < FANOUT) return;
    if (emit) this.close(state, level);
    else {
      // Read back: the file holds this bucket already; carry it on up as the writer did.
      this.propagate(state, d, o, level + 1, false);
      // The level above may have grown state.open: clear this bucket in the array in use.
      state.open[o + COUNT] = 0;
      state.children[level] = 0;
    }
  }

  private emit(from: Float64Array, f: number): void {
    if ((this.outLength + 1) * RECORD_COLUMNS > this.out.length) {
      const bigger = new Float64Array(this.out.length * 2);
      bigger.set(this.out);
      this.out = bigger;
    }
    this.out.set(from.subarray(f, f + RECORD_COLUMNS), this.outLength * RECORD_COLUMNS);
    this.outLength++;
  }
}
