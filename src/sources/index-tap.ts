/**
 * Builds a foreign run's index (source-index.ts: TensorBoard and W&B) while its reader feeds the
 * store: every scalar the reader keeps goes on to the store's visitor and into the run index's
 * bucket builder, placed at the byte position of its record in the run. A restart read again from
 * the start (tfevents/restart-plan.ts) resets the builder with the store.
 *
 * A scalar without a step (W&B's system stats) is placed at its series' point count, as the
 * dashboard's store places it, so buckets from the index draw where a full read draws.
 */
import type { MalformedLine, MetricVisitor, PhaseId } from '../ndjson/line/metric-visitor.js';
import { PHASE_NAMES } from '../ndjson/line/metric-visitor.js';
import type { NameTable } from '../ndjson/line/name-table.js';
import { COUNT, LEVEL, RECORD_COLUMNS, SERIES } from '../run-index/bucket-record.js';
import { IndexBuilder, type SeriesDef } from '../run-index/index-builder.js';

export class IndexTap implements MetricVisitor {
  private builder: IndexBuilder | undefined = new IndexBuilder();
  private ids: number[][] = [[], [], []];
  /** Points per series so far, where a scalar without a step is placed. */
  private points: number[] = [];
  /** Buckets of the index the read went on from, kept until a restart drops them. */
  private earlier: Float64Array = new Float64Array(0);

  constructor(
    private readonly inner: MetricVisitor,
    private readonly names: NameTable,
    /** Byte position, in the run, of the record being read. */
    private readonly position: () => number,
  ) {}

  scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number): void {
    this.inner.scalar(phase, name, run, step, ts, value);
    const builder = this.builder;
    if (builder === undefined) return;
    const byName = this.ids[phase] as number[];
    const id = (byName[name] ??= builder.seriesId('', PHASE_NAMES[phase], this.names.name(name)));
    const points = this.points[id] ?? 0;
    this.points[id] = points + 1;
    const x = typeof step === 'bigint' ? Number(step) : Number.isNaN(step) ? points : step;
    builder.add(id, x, ts, value, this.position());
  }

  malformed(line: MalformedLine): void {
    this.inner.malformed(line);
  }

  /** The read goes on from an index holding these series and buckets. */
  restore(defs: SeriesDef[], records: Float64Array): void {
    this.builder?.restore([{ end: 0, resume: 0, final: true, defs, records }]);
    this.earlier = records;
    this.points = defs.map(() => 0);
    for (let o = 0; o < records.length; o += RECORD_COLUMNS)
      if (records[o + LEVEL] === 0)
        (this.points[records[o + SERIES] as number] as number) += records[o + COUNT] as number;
  }

  /** The run is read again from its start: what was built is dropped. */
  reset(): void {
    if (this.builder === undefined) return;
    this.builder = new IndexBuilder();
    this.ids = [[], [], []];
    this.points = [];
    this.earlier = new Float64Array(0);
  }

  /** Whether the store holds only what this tap saw (false once it stopped). */
  get active(): boolean {
    return this.builder !== undefined;
  }

  /** Every bucket closed, with the buckets of the index it went on from; the tap stops building. */
  finish(end: number): { defs: SeriesDef[]; records: Float64Array } | undefined {
    const builder = this.builder;
    if (builder === undefined) return undefined;
    this.builder = undefined;
    const block = builder.cut(end, true);
    const records = new Float64Array(this.earlier.length + block.records.length);
    records.set(this.earlier);
    records.set(block.records, this.earlier.length);
    this.earlier = new Float64Array(0);
    return { defs: builder.defs, records };
  }
}
