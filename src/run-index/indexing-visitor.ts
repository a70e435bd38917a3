/**
 * Feeds the rows a reader reads to an index builder (stream-index.ts, and the bridge's followed
 * index), skipping those already in a finished level-0 bucket, and tells its caller where a block
 * may be cut when the builder holds enough records (a build written in parts).
 */
import type { MetricVisitor, PhaseId, MalformedLine } from '../ndjson/line/metric-visitor.js';
import { PHASE_NAMES } from '../ndjson/line/metric-visitor.js';
import { NameTable } from '../ndjson/line/name-table.js';
import type { LineProcessor } from '../ndjson/line/line-processor.js';
import type { IndexBuilder } from './index-builder.js';

/** Feeds re-read rows to the builder, skipping those already in a finished level-0 bucket. */
export class IndexingVisitor implements MetricVisitor {
  processor: LineProcessor | undefined;
  /** Names as their bytes only: the builder asks for each name's string once, when it defines a series. */
  readonly tables = { names: new NameTable({ keepStrings: false }), runs: new NameTable() };
  private readonly ids: number[][][] = [[], [], []];
  /**
   * Called at the start of a line once the builder has grown by `partBytes` since its last cut
   * (IndexBuilder.grownBytes), with that line's offset: every row before it has been added
   * (stream-index.ts cuts and writes a block there).
   */
  onPart: ((end: number) => void) | undefined;
  partBytes = Infinity;
  private lineAt = -1;

  /**
   * @param unkeyed the builder holds no series yet and is fed by this visitor alone, which finds
   *   each series by its table ids: series are defined without the builder's map of keys.
   */
  constructor(
    private readonly builder: IndexBuilder,
    private readonly onMalformed: (line: MalformedLine) => void,
    private readonly unkeyed = false,
  ) {}

  scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number): void {
    const offset = (this.processor as LineProcessor).lineStart;
    if (offset !== this.lineAt) {
      // A part is cut between lines only: a line's rows all go to one block.
      this.lineAt = offset;
      if (this.builder.grownBytes >= this.partBytes) this.onPart?.(offset);
    }
    const byRun = this.ids[phase] as number[][];
    const byName = (byRun[run + 1] ??= []);
    let id = byName[name];
    if (id === undefined) {
      const runId = run < 0 ? '' : this.tables.runs.name(run);
      const nameText = this.tables.names.name(name);
      id = this.unkeyed
        ? this.builder.define(runId, PHASE_NAMES[phase], nameText)
        : this.builder.seriesId(runId, PHASE_NAMES[phase], nameText);
      byName[name] = id;
    }
    if (offset <= this.builder.covered(id)) return;
    this.builder.add(id, typeof step === 'bigint' ? Number(step) : step, ts, value, offset);
  }

  /** Malformed lines before this offset are counted in the index's blocks already. */
  countFrom = 0;
  /** Lines before the range read, which its malformed lines are numbered from; undefined: not known. */
  lineBase: number | undefined = 0;

  malformed(line: MalformedLine): void {
    const numbered = { ...line, line: this.lineBase === undefined ? 0 : this.lineBase + line.line };
    this.onMalformed(numbered);
    if (line.offset >= this.countFrom) this.builder.malformed(numbered);
  }
}
