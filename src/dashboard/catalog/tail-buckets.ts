/**
 * The rows a catalog's stream holds after its run index, kept as level-0 buckets (the catalog's
 * charts draw them after the index's own): see open-catalog.ts.
 */
import {
  addRow,
  COUNT,
  LAST_STEP,
  LEVEL0_ROWS,
  OFFSET,
  openBucket,
  RECORD_COLUMNS,
  SERIES,
} from '../../run-index/bucket-record.js';
import { SPAN_BYTES } from '../../run-index/index-builder.js';
import type { TailRecords } from './stream-catalog.js';

/**
 * Level-0 buckets of the rows after the index, per series, as the index builder cuts them: one
 * array for all, each series' buckets chained, so 70,000 names read again (the last 8 MiB of a
 * stream whose index a reader built) are not 70,000 arrays.
 */
export class TailBuckets implements TailRecords {
  private d = new Float64Array(1024 * RECORD_COLUMNS);
  /** Per bucket, the next bucket of its series (-1: none). */
  private next = new Int32Array(1024);
  private length = 0;
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();

  /** Series with rows after the index. */
  series(): IterableIterator<number> {
    return this.first.keys();
  }

  /** A level-0 bucket the index's last block left open (its state): rows after it may join it. */
  addBucket(from: Float64Array, f: number): void {
    const series = from[f + SERIES] as number;
    const fresh = this.grow();
    this.d.set(from.subarray(f, f + RECORD_COLUMNS), fresh * RECORD_COLUMNS);
    this.chain(series, fresh);
  }

  add(series: number, step: number, ts: number, value: number, offset: number): void {
    const b = this.last.get(series);
    const d = this.d;
    if (b !== undefined) {
      const o = b * RECORD_COLUMNS;
      if (
        (d[o + COUNT] as number) < LEVEL0_ROWS &&
        step >= (d[o + LAST_STEP] as number) &&
        offset - (d[o + OFFSET] as number) <= SPAN_BYTES
      ) {
        addRow(d, o, step, ts, value, offset);
        return;
      }
    }
    const fresh = this.grow();
    openBucket(this.d, fresh * RECORD_COLUMNS, series, 0, step, ts, value, offset);
    this.chain(series, fresh);
  }

  /** Room for one more bucket: its number. */
  private grow(): number {
    if (this.length === this.next.length) {
      const bigger = new Float64Array(this.d.length * 2);
      bigger.set(this.d);
      this.d = bigger;
      const next = new Int32Array(this.next.length * 2);
      next.set(this.next);
      this.next = next;
    }
    return this.length++;
  }

  /** Bucket `fresh` goes after the series' last one. */
  private chain(series: number, fresh: number): void {
    const b = this.last.get(series);
    this.next[fresh] = -1;
    if (b === undefined) this.first.set(series, fresh);
    else this.next[b] = fresh;
    this.last.set(series, fresh);
  }

  of(id: number): Float64Array | undefined {
    let b = this.first.get(id);
    if (b === undefined) return undefined;
    const out: number[] = [];
    for (; b !== -1; b = this.next[b] as number)
      for (let c = 0; c < RECORD_COLUMNS; c++) out.push(this.d[b * RECORD_COLUMNS + c] as number);
    return Float64Array.from(out);
  }

  /** Drops the spare room of the arrays (the buckets are kept for the catalog's life). */
  trim(): void {
    this.d = this.d.slice(0, this.length * RECORD_COLUMNS);
    this.next = this.next.slice(0, this.length);
    this.last.clear();
  }
}
