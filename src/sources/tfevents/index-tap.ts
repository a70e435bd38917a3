/**
 * Builds a TensorBoard run's index (tfevents-index.ts) while its reader feeds the store: every
 * scalar the reader keeps goes on to the store's visitor and into the run index's bucket builder,
 * placed at the byte position of its record in the run. A restart read again from the start
 * (restart-plan.ts) resets the builder with the store.
 */
import type { MalformedLine, MetricVisitor, PhaseId } from '../../ndjson/line/metric-visitor.js';
import { PHASE_NAMES } from '../../ndjson/line/metric-visitor.js';
import type { NameTable } from '../../ndjson/line/name-table.js';
import { IndexBuilder, type SeriesDef } from '../../run-index/index-builder.js';

export class IndexTap implements MetricVisitor {
  private builder: IndexBuilder | undefined = new IndexBuilder();
  private ids: number[][] = [[], [], []];
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
    builder.add(id, typeof step === 'bigint' ? Number(step) : step, ts, value, this.position());
  }

  malformed(line: MalformedLine): void {
    this.inner.malformed(line);
  }

  /** The read goes on from an index holding these series and buckets. */
  restore(defs: SeriesDef[], records: Float64Array): void {
    this.builder?.restore([{ end: 0, resume: 0, final: true, defs, records }]);
    this.earlier = records;
  }

  /** The run is read again from its start: what was built is dropped. */
  reset(): void {
    if (this.builder === undefined) return;
    this.builder = new IndexBuilder();
    this.ids = [[], [], []];
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
