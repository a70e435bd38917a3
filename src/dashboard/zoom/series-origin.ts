/**
 * Where a series' rows lie on disk: the NDJSON stream (its active file's path; segments are found
 * beside it) and the series' key in that stream's run index. A drag-zoom reads the stream's index
 * and rows through it (zoom-reader.ts); series read from elsewhere (TensorBoard, W&B) have none and
 * zoom on the buckets the dashboard holds. A series of a stream opened as a catalog
 * (../catalog/) has its level-0 buckets from the catalog instead: its index is not read whole.
 */
import type { BucketSeries } from '../bucket-series.js';

export interface SeriesOrigin {
  activePath: string;
  /** The rows' run id, as the index keeps it ('' when the rows carry none). */
  runId: string;
  phase: string;
  name: string;
  /** Set for a series of a stream opened as a catalog: where its buckets come from. */
  catalog?: CatalogBuckets;
}

/** A catalog series' buckets (../catalog/stream-catalog.ts), read back per zoom. */
export interface CatalogBuckets {
  /**
   * The series' level-0 buckets as index records: its index's, then those of the rows after it.
   * Undefined when the stream is no longer the file the catalog was opened from (replaced, cut).
   */
  levelZero(): Float64Array | undefined;
}

/** Streams feeding each series (usually one; two streams of one run may share a series). */
export class SeriesOrigins {
  private readonly bySeries = new WeakMap<BucketSeries, SeriesOrigin[]>();

  add(series: BucketSeries, origin: SeriesOrigin): void {
    const list = this.bySeries.get(series);
    if (list === undefined) this.bySeries.set(series, [origin]);
    else if (!list.some((o) => o.activePath === origin.activePath && o.runId === origin.runId))
      list.push(origin);
  }

  of(series: BucketSeries): readonly SeriesOrigin[] {
    return this.bySeries.get(series) ?? [];
  }
}
