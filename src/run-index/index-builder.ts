/**
 * Builds a run index as rows arrive: per series, an open level-0 bucket takes rows; a full one is
 * emitted and merged into the open bucket one level up, which is emitted after FANOUT children, and
 * so on. `cut()` hands over what was emitted since the last cut as one block. Only finished buckets
 * are written (the index is append-only), so a reader rebuilds the open ones by reading the stream
 * again from the block's `resume` offset; an open bucket older than `rescanBytes` is closed early,
 * which bounds that re-read.
 */
import {
  addRow,
  copyBucket,
  COUNT,
  FANOUT,
  FIRST_STEP,
  FIRST_TS,
  LAST,
  LAST_OFFSET,
  LAST_TS,
  LEVEL,
  LEVEL0_ROWS,
  MAX,
  MAX_STEP,
  mergeBucket,
  MIN,
  MIN_STEP,
  NAN,
  NEG_INF,
  OFFSET,
  openBucket,
  LAST_STEP,
  POS_INF,
  RECORD_BYTES,
  RECORD_COLUMNS,
  SERIES,
  SUM,
} from './bucket-record.js';
import type { MalformedLine } from '../ndjson/line/metric-visitor.js';
import { groupRuns, RUN_FIELDS } from './record-runs.js';
import type { RowTable } from './row-table.js';
import { SeriesStates } from './series-states.js';

/** Levels kept: level 11 buckets hold 64 × 4^11 ≈ 268 million rows. */
export const MAX_LEVELS = 12;
/** Default bound on the stream bytes a reader re-reads to rebuild open buckets. */
export const DEFAULT_RESCAN_BYTES = 8 << 20;
/**
 * A level-0 bucket spans at most this many stream bytes: a sparse series (an eval every thousand
 * steps) gets buckets of one or a few rows, so it is drawn exactly, while a dense one (a row per few
 * KB) fills its LEVEL0_ROWS first. Such buckets number at most series × stream bytes / SPAN_BYTES.
 */
export const SPAN_BYTES = 1 << 20;

export interface SeriesDef {
  id: number;
  /** The rows' run id ('' when the rows carry none). */
  run: string;
  phase: string;
  name: string;
}

export interface IndexBlock {
  /** Stream bytes the block accounts for: every row before `end` is in a bucket or after `resume`. */
  end: number;
  /** Rows at or after this offset that are not in an emitted level-0 bucket are in no bucket yet. */
  resume: number;
  /** Every bucket was closed: nothing is open after this block. */
  final: boolean;
  /** Series first seen since the previous block. */
  defs: SeriesDef[];
  /** Buckets emitted since the previous block, RECORD_COLUMNS numbers each, grouped into `runs`. */
  records: Float64Array;
  /**
   * The records' runs (record-runs.ts): series, level and record count of each, in record order.
   * A block made by hand may leave it out; it is worked out when the block is written.
   */
  runs?: Uint32Array;
  /**
   * The builder's open buckets at `end` (a reader's block, see `cut`): whoever takes the index up
   * next starts from them, so `resume` is `end` and no row is read twice.
   */
  state?: OpenState;
  /**
   * Malformed lines in the stream bytes from the previous block's end to this one's, and the first
   * few of the whole stream's (MALFORMED_SAMPLES in all blocks together; `line` 0: not known).
   */
  malformed?: { count: number; samples: MalformedLine[] };
}

/** Open buckets of every series and level (COUNT > 0), and the children merged into each. */
export interface OpenState {
  open: Float64Array;
  children: Uint32Array;
}

/**
 * Open buckets a block carries as its state at most: past it (a stream of very many names, each
 * with an open bucket) the block carries none, and a reader re-reads from `resume` as a writer's
 * block asks. 65,536 buckets take 9.7 MB.
 */
export const MAX_STATE_BUCKETS = 1 << 16;

/** Malformed lines an index keeps by location (the first of the stream); the rest are counted. */
export const MALFORMED_SAMPLES = 5;

export class IndexBuilder {
  readonly defs: SeriesDef[] = [];
  /** Series ids by run, then phase, then name: the names are the definitions' own strings. */
  private readonly byKey = new Map<string, Map<string, Map<string, number>>>();
  private readonly states = new SeriesStates(MAX_LEVELS);
  /** Series are defined by define(), without keys (see there). */
  private unkeyed = false;
  private newDefs = 0;
  private out = new Float64Array(64 * RECORD_COLUMNS);
  private outLength = 0;
  /** Level-0 buckets opened since the last cut (see grownBytes). */
  private openedSinceCut = 0;
  private malformedCount = 0;
  private malformedSamples: MalformedLine[] = [];
  /** Samples kept in earlier blocks. */
  private samplesBefore = 0;
  /** While `addTable` runs: where its records start in `out`, and the row each was emitted at. */
  private tableStart = -1;
  private emitRow = 0;
  private recordRows = new Int32Array(256);
  private rowStarts = new Int32Array(256);

  constructor(private readonly rescanBytes = DEFAULT_RESCAN_BYTES) {}

  /** Bytes of finished bucket records held until the next cut. */
  get heldBytes(): number {
    return this.outLength * RECORD_COLUMNS * 8;
  }

  /**
   * What the builder grew by since the last cut: the records emitted and the level-0 buckets
   * opened, a record's bytes each. A stream of very many names opens a bucket a row, and its
   * records come only when a cut closes the old ones; a build written in parts cuts on this.
   */
  get grownBytes(): number {
    return (this.outLength + this.openedSinceCut) * RECORD_BYTES;
  }

  /** The id of a series, defined on first use. */
  seriesId(run: string, phase: string, name: string): number {
    if (this.unkeyed)
      throw new Error(
        'this index builder defines series without looking them up: call define(), not seriesId()',
      );
    let phases = this.byKey.get(run);
    if (phases === undefined) this.byKey.set(run, (phases = new Map()));
    let names = phases.get(phase);
    if (names === undefined) phases.set(phase, (names = new Map()));
    let id = names.get(name);
    if (id === undefined) {
      id = this.states.add();
      names.set(name, id);
      this.defs.push({ id, run, phase, name });
    }
    return id;
  }

  /**
   * A new series, not looked up: for a caller that finds its series itself and never names one
   * twice (IndexingVisitor on a build from nothing). The builder then keeps no map of keys (a
   * million names: a Map of a million entries), and `seriesId` is refused.
   */
  define(run: string, phase: string, name: string): number {
    if (this.byKey.size > 0)
      throw new Error('this index builder looks series up by key: call seriesId(), not define()');
    this.unkeyed = true;
    const id = this.states.add();
    this.defs.push({ id, run, phase, name });
    return id;
  }

  /**
   * Lets go of the definitions already handed over in blocks (a build that only writes its index
   * has written them): `defs` then lists only series defined since, while ids go on from where
   * they were.
   */
  forgetCutDefs(): void {
    this.defs.splice(0, this.newDefs);
    this.newDefs = 0;
  }

  /** One row of a series, from the line starting at byte `offset`. */
  add(series: number, step: number, ts: number, value: number, offset: number): void {
    const states = this.states;
    let d = states.full(series, 0);
    if (d === undefined) {
      // A compact chunk (series-states.ts): a bucket of one row is kept as that row.
      const first = states.rowOffset(series, 0);
      if (first >= 0 && offset - first <= SPAN_BYTES && step >= states.rowStep(series, 0))
        d = states.open(series, 0);
      else {
        // No bucket open, or the open one ends here (as below): this row opens one.
        if (first >= 0) this.close(series, 0);
        states.setRow(series, 0, step, ts, value, offset);
        this.openedSinceCut++;
        return;
      }
    }
    const o = states.bucketAt(series);
    // A bucket spans at most SPAN_BYTES; and a step going back (a restarted run) starts a new
    // bucket, so a level-0 bucket's steps never go back and its first and last steps bound them:
    // a zoom's window finds every row it holds.
    if (
      d[o + COUNT] !== 0 &&
      (offset - (d[o + OFFSET] as number) > SPAN_BYTES || step < (d[o + LAST_STEP] as number))
    )
      this.close(series, 0);
    if (d[o + COUNT] === 0) {
      openBucket(d, o, series, 0, step, ts, value, offset);
      this.openedSinceCut++;
    } else addRow(d, o, step, ts, value, offset);
    if ((d[o + COUNT] as number) >= LEVEL0_ROWS) this.close(series, 0);
  }

  /**
   * The rows of `table`, taken as `add()` of each value in row order would, to the same buckets
   * and the same records in the same order: each series' column goes into its open bucket in one
   * loop, with the bucket's numbers in locals between closes, and the records emitted are then put
   * back in row order.
   */
  addTable(table: RowTable): void {
    if (table.rows === 0) return;
    this.tableStart = this.outLength;
    for (let i = 0; i < table.k; i++) this.addColumn(table, i);
    const start = this.tableStart;
    this.tableStart = -1;
    if (table.k > 1) this.putInRowOrder(start, table.rows);
  }

  /** Column `i` of `table`: the values of one series, a row at a time. */
  private addColumn(table: RowTable, i: number): void {
    const { k, rows, steps, ts, values, offsets } = table;
    const series = table.series[i] as number;
    const d = this.states.open(series, 0);
    const o = this.states.bucketAt(series);
    let r = 0;
    while (r < rows) {
      const cell = r * k + i;
      // As add(): a bucket spans at most SPAN_BYTES, and a step going back starts a new one.
      if (
        d[o + COUNT] !== 0 &&
        ((offsets[cell] as number) - (d[o + OFFSET] as number) > SPAN_BYTES ||
          (steps[r] as number) < (d[o + LAST_STEP] as number))
      ) {
        this.emitRow = r;
        this.close(series, 0);
      }
      if (d[o + COUNT] === 0) {
        // One row: a bucket holds LEVEL0_ROWS > 1 of them, so it is not full yet.
        openBucket(
          d,
          o,
          series,
          0,
          steps[r] as number,
          ts[r] as number,
          values[cell] as number,
          offsets[cell] as number,
        );
        this.openedSinceCut++;
        r++;
        continue;
      }
      // Rows that only add to the open bucket, until it is full or a row starts a new one.
      const first = d[o + OFFSET] as number;
      let count = d[o + COUNT] as number;
      let nan = d[o + NAN] as number;
      let posInf = d[o + POS_INF] as number;
      let negInf = d[o + NEG_INF] as number;
      let sum = d[o + SUM] as number;
      let min = d[o + MIN] as number;
      let minStep = d[o + MIN_STEP] as number;
      let max = d[o + MAX] as number;
      let maxStep = d[o + MAX_STEP] as number;
      let lastStep = d[o + LAST_STEP] as number;
      const from = r;
      for (; r < rows && count < LEVEL0_ROWS; r++) {
        const step = steps[r] as number;
        const at = r * k + i;
        if ((offsets[at] as number) - first > SPAN_BYTES || step < lastStep) break;
        const value = values[at] as number;
        count++;
        if (value - value !== 0) {
          if (value === Infinity) posInf++;
          else if (value === -Infinity) negInf++;
          else nan++;
        } else {
          sum += value;
          if (value < min) {
            min = value;
            minStep = step;
          }
          if (value > max) {
            max = value;
            maxStep = step;
          }
        }
        lastStep = step;
      }
      if (r === from) continue;
      const last = r - 1;
      d[o + COUNT] = count;
      d[o + NAN] = nan;
      d[o + POS_INF] = posInf;
      d[o + NEG_INF] = negInf;
      d[o + SUM] = sum;
      d[o + MIN] = min;
      d[o + MIN_STEP] = minStep;
      d[o + MAX] = max;
      d[o + MAX_STEP] = maxStep;
      d[o + LAST_STEP] = lastStep;
      d[o + LAST_TS] = ts[last] as number;
      d[o + LAST] = values[last * k + i] as number;
      d[o + LAST_OFFSET] = offsets[last * k + i] as number;
      if (count >= LEVEL0_ROWS) {
        this.emitRow = last;
        this.close(series, 0);
      }
    }
  }

  /**
   * Reorders the `out` records from `start` (emitted by `addTable`, a series at a time) by the row
   * each was emitted at, as adds in row order would have emitted them; records of one row keep
   * their order (its series in order, and a bucket before those it closed above). A counting sort
   * over the table's rows.
   */
  private putInRowOrder(start: number, rows: number): void {
    const count = this.outLength - start;
    const recordRows = this.recordRows;
    let sorted = true;
    for (let j = 1; j < count && sorted; j++)
      sorted = (recordRows[j - 1] as number) <= (recordRows[j] as number);
    if (sorted) return;
    if (this.rowStarts.length < rows + 1)
      this.rowStarts = new Int32Array(Math.max(rows + 1, this.rowStarts.length * 2));
    const starts = this.rowStarts;
    starts.fill(0, 0, rows + 1);
    for (let j = 0; j < count; j++) (starts[(recordRows[j] as number) + 1] as number)++;
    for (let r = 0; r < rows; r++) starts[r + 1] = (starts[r + 1] as number) + (starts[r] as number);
    const out = this.out;
    const held = out.slice(start * RECORD_COLUMNS, this.outLength * RECORD_COLUMNS);
    for (let j = 0; j < count; j++) {
      const to = (start + (starts[recordRows[j] as number] as number)++) * RECORD_COLUMNS;
      const from = j * RECORD_COLUMNS;
      for (let c = 0; c < RECORD_COLUMNS; c++) out[to + c] = held[from + c] as number;
    }
  }

  /** A malformed line past the previous block's end (one before it is counted there already). */
  malformed(line: MalformedLine): void {
    this.malformedCount++;
    if (this.samplesBefore + this.malformedSamples.length < MALFORMED_SAMPLES)
      this.malformedSamples.push(line);
  }

  /** Rows at or before this offset are already in a bucket of the series (a re-read skips them). */
  covered(series: number): number {
    if (!(series >= 0 && series < this.states.length)) return -1;
    return this.states.covered(series)[this.states.slot(series)] as number;
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
    const states = this.states;
    for (let series = 0; series < states.length; series++) {
      if (final) {
        for (let level = 0; level < states.levels(series); level++) {
          if (states.count(series, level) === 0) continue;
          // A level whose series fits in one bucket is the series' coarsest: a level above it
          // would copy that bucket, so a series of a few rows would cost MAX_LEVELS records.
          if (level > 0 && (states.emitted(series, level - 1)[states.slot(series)] as number) <= 1) {
            states.clearFrom(series, level);
            break;
          }
          this.close(series, level);
        }
      } else if (states.count(series, 0) !== 0 && states.firstOffset(series, 0) < oldest)
        this.close(series, 0);
    }
    // The level-0 rows of series whose buckets were all closed (a million one-row names: 32 MB).
    states.releaseEmpty(0);
    const open = withState && !final ? this.openState() : undefined;
    let resume = end;
    if (open === undefined)
      for (let series = 0; series < states.length; series++)
        if (states.count(series, 0) !== 0) resume = Math.min(resume, states.firstOffset(series, 0));
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
    this.openedSinceCut = 0;
    this.samplesBefore += this.malformedSamples.length;
    this.malformedCount = 0;
    this.malformedSamples = [];
    return block;
  }

  /**
   * The last block of a build written in parts: cut() with the open buckets, or, when they number
   * more than MAX_STATE_BUCKETS (a stream of very many names), with every open level-0 bucket
   * closed first, so that its `resume` is its `end` and the next reader reads no row again (a
   * million one-row names: 8 MiB of stream, whose 68,000 series a catalog would hold).
   */
  cutLast(end: number): IndexBlock {
    if (this.openCount() > MAX_STATE_BUCKETS) {
      const states = this.states;
      for (let series = 0; series < states.length; series++)
        if (states.count(series, 0) !== 0) this.close(series, 0);
    }
    return this.cut(end, false, true);
  }

  /**
   * Takes back the records of a block cut from this builder once they are written (a build in
   * parts): the next block's records go into their buffer, not into one grown again from 64
   * records by doubling, whose copies a build of many parts would otherwise allocate each time.
   */
  recycle(records: Float64Array): void {
    if (this.outLength === 0 && records.buffer.byteLength > this.out.byteLength)
      this.out = new Float64Array(records.buffer as ArrayBuffer);
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
    const states = this.states;
    for (const block of blocks) {
      for (const def of block.defs) this.seriesId(def.run, def.phase, def.name);
      const r = block.records;
      for (let o = 0; o < r.length; o += RECORD_COLUMNS) {
        const series = r[o + SERIES] as number;
        const level = r[o + LEVEL] as number;
        states.reach(series, level);
        (states.emitted(series, level)[states.slot(series)] as number)++;
        if (level !== 0) continue;
        states.covered(series)[states.slot(series)] = r[o + LAST_OFFSET] as number;
        this.propagate(series, r, o, 1, false);
      }
      if (block.final) for (let series = 0; series < states.length; series++) states.clearFrom(series, 1);
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
    const states = this.states;
    for (const block of blocks) {
      for (const def of block.defs) this.seriesId(def.run, def.phase, def.name);
      const runs = block.runs ?? groupRuns(block.records);
      for (let r = 0; r < runs.length; r += RUN_FIELDS) {
        const series = runs[r] as number;
        const level = runs[r + 1] as number;
        states.reach(series, level);
        (states.emitted(series, level)[states.slot(series)] as number) += runs[r + 2] as number;
      }
      this.samplesBefore += block.malformed?.samples.length ?? 0;
    }
    for (let series = 0; series < states.length; series++)
      states.covered(series)[states.slot(series)] = end - 1;
    const d = open.open;
    for (let i = 0, o = 0; o < d.length; i++, o += RECORD_COLUMNS) {
      const series = d[o + SERIES] as number;
      const level = d[o + LEVEL] as number;
      states.reach(series, level);
      states.open(series, level).set(d.subarray(o, o + RECORD_COLUMNS), states.bucketAt(series));
      states.children(series, level)[states.slot(series)] = open.children[i] as number;
    }
    this.newDefs = this.defs.length;
    this.outLength = 0;
  }

  /** The open buckets of every series, or undefined past MAX_STATE_BUCKETS. */
  private openState(): OpenState | undefined {
    const count = this.openCount();
    return count > MAX_STATE_BUCKETS ? undefined : this.collectOpen(count);
  }

  /** The open (unfinished) buckets of every level, for a reader that shows everything up to now. */
  openBuckets(): Float64Array {
    return this.collectOpen(this.openCount()).open;
  }

  private openCount(): number {
    const states = this.states;
    let count = 0;
    for (let series = 0; series < states.length; series++)
      for (let level = 0; level < states.levels(series); level++)
        if (states.count(series, level) !== 0) count++;
    return count;
  }

  /** The `count` open buckets and their children, coarsest first in each series (a reader draws them so). */
  private collectOpen(count: number): OpenState {
    const states = this.states;
    const open = new Float64Array(count * RECORD_COLUMNS);
    const children = new Uint32Array(count);
    let i = 0;
    for (let series = 0; series < states.length; series++)
      for (let level = states.levels(series) - 1; level >= 0; level--) {
        if (states.count(series, level) === 0) continue;
        states.writeBucket(series, level, open, i * RECORD_COLUMNS);
        children[i++] = states.childrenOf(series, level);
      }
    return { open, children };
  }

  private close(series: number, level: number): void {
    const states = this.states;
    const slot = states.slot(series);
    const t = this.nextRecord();
    states.writeBucket(series, level, this.out, t);
    (states.emitted(series, level)[slot] as number)++;
    if (level === 0) states.covered(series)[slot] = this.out[t + LAST_OFFSET] as number;
    states.clear(series, level);
    if (level + 1 < MAX_LEVELS) this.propagate(series, this.out, t, level + 1, true);
  }

  /** Merges a finished bucket into the open bucket of `level`, closing it after FANOUT children. */
  private propagate(series: number, from: Float64Array, f: number, level: number, emit: boolean): void {
    if (level >= MAX_LEVELS) return;
    const states = this.states;
    states.reach(series, level);
    // A bucket of one row into an empty compact one: kept as its row (series-states.ts), one child.
    if (
      states.full(series, level) === undefined &&
      states.rowOffset(series, level) < 0 &&
      from[f + COUNT] === 1
    ) {
      states.setRow(
        series,
        level,
        from[f + FIRST_STEP] as number,
        from[f + FIRST_TS] as number,
        from[f + LAST] as number,
        from[f + OFFSET] as number,
      );
      return;
    }
    const d = states.open(series, level);
    const o = states.bucketAt(series);
    const children = states.children(series, level);
    const slot = states.slot(series);
    if (d[o + COUNT] === 0) copyBucket(d, o, from, f, level);
    else mergeBucket(d, o, from, f);
    if (++(children[slot] as number) < FANOUT) return;
    if (emit) this.close(series, level);
    else {
      // Read back: the file holds this bucket already; carry it on up as the writer did.
      this.propagate(series, d, o, level + 1, false);
      d[o + COUNT] = 0;
      children[slot] = 0;
    }
  }

  /** Room for one more record in `out`: where it starts (the caller writes it). */
  private nextRecord(): number {
    if ((this.outLength + 1) * RECORD_COLUMNS > this.out.length) {
      const bigger = new Float64Array(this.out.length * 2);
      bigger.set(this.out);
      this.out = bigger;
    }
    const t = this.outLength * RECORD_COLUMNS;
    if (this.tableStart >= 0) {
      const j = this.outLength - this.tableStart;
      if (j >= this.recordRows.length) {
        const bigger = new Int32Array(this.recordRows.length * 2);
        bigger.set(this.recordRows);
        this.recordRows = bigger;
      }
      this.recordRows[j] = this.emitRow;
    }
    this.outLength++;
    return t;
  }
}
