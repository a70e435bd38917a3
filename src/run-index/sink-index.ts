/**
 * The index an NDJSON sink keeps beside the stream it writes: rows go into the builder as they are
 * encoded (no I/O), and each flush appends one block once the stream bytes it accounts for are
 * written, so the index never claims rows the stream lacks. The header names the writing process:
 * readers leave an index alone while its writer lives.
 */
import type { Row } from '../pipeline/row.js';
import { IndexBuilder, type IndexBlock } from './index-builder.js';
import { IndexFile } from './index-file.js';
import { RowTable } from './row-table.js';
import { besidePath } from './index-path.js';
import { StreamTail } from './stream-tail.js';

/**
 * Series ids of one phase's names. A training loop logs the same names in the same order every
 * step, so the last row's names and ids, by position, answer most rows by comparing strings (the
 * very same string, usually) instead of hashing each name; they hold as many entries as the
 * widest row.
 */
class PhaseIds {
  readonly byName = new Map<string, number>();
  readonly lastNames: string[] = [];
  readonly lastIds: number[] = [];

  clear(): void {
    this.byName.clear();
    this.lastNames.length = 0;
    this.lastIds.length = 0;
  }
}

export class SinkIndex {
  private builder = new IndexBuilder();
  private file: IndexFile;
  private finished = false;
  private pending: { file: IndexFile; block: IndexBlock; tail: number | undefined }[] = [];
  /** The stream's last bytes; the new file after a rotation starts at offset 0, which resets it. */
  private readonly tail = new StreamTail();
  /** Rows of the same names, taken by the builder a table at a time. */
  private readonly table = new RowTable();
  private readonly byPhase = { train: new PhaseIds(), eval: new PhaseIds(), system: new PhaseIds() };

  constructor(
    private stream: string,
    private readonly runId: string,
  ) {
    this.file = new IndexFile(besidePath(stream), 0, process.pid);
  }

  /**
   * Takes the rows of one appended chunk, encoded one line per scalar (one per system row) in
   * order: line i ends at `lineEnds[i]` of `chunk` (LineEncoder's ends), `bytes` is the chunk as
   * UTF-8 and `offset` the stream byte where it starts. Consecutive rows of the same names go to
   * the builder as a table (RowTable); the others a value at a time.
   */
  addRows(
    rows: readonly Row[],
    count: number,
    lineEnds: readonly number[],
    chunk: string,
    bytes: Uint8Array,
    offset: number,
  ): void {
    this.tail.appended(bytes, offset);
    // ASCII (the usual case): characters are bytes, and a line starts where the one before ends.
    const ascii = bytes.byteLength === chunk.length;
    const builder = this.builder;
    const table = this.table;
    let line = 0;
    let lineStart = 0;
    let byteStart = offset;
    // Rows of one phase come in runs: its ids are looked up when the phase changes.
    let phase: Row['phase'] | undefined;
    let ids = this.byPhase.train;
    let tablePhase: Row['phase'] | undefined;
    for (let r = 0; r < count; r++) {
      const row = rows[r] as Row;
      if (row.phase !== phase) {
        phase = row.phase;
        ids = this.byPhase[phase];
      }
      const step = typeof row.step === 'bigint' ? Number(row.step) : row.step;
      // The stream holds the time rounded to microseconds (encodeTs); so does the index.
      const ts = Math.round(row.ts * 1e6) / 1e6;
      const { names, values } = row;
      const k = names.length;
      // Series ids: the last row's of this phase where the names are the same (a table's next row).
      let same = true;
      for (let i = 0; i < k; i++) {
        const name = names[i] as string;
        if (ids.lastNames[i] === name) continue;
        same = false;
        ids.lastNames[i] = name;
        ids.lastIds[i] = this.id(ids, phase, name);
      }
      // A system row: the rows before go in first, so records come out in row order.
      const system = phase === 'system';
      if (system) this.takeTable();
      else if (!(same && phase === tablePhase && table.takes(k))) {
        this.takeTable();
        tablePhase = table.start(ids.lastIds, k) ? phase : undefined;
      }
      if (system || tablePhase === undefined) {
        // One value at a time: a system row's values share its one line; a row that names a
        // series twice has a line a value, taken in order.
        const lines = system ? 1 : k;
        for (let l = 0, i = 0; l < lines; l++) {
          const at = ascii ? offset + lineStart : byteStart;
          for (const last = system ? k : i + 1; i < last; i++)
            builder.add(ids.lastIds[i] as number, step, ts, values[i] as number, at);
          const end = lineEnds[line++] as number;
          if (!ascii) byteStart += Buffer.byteLength(chunk.slice(lineStart, end));
          lineStart = end;
        }
        continue;
      }
      const at = table.rows++;
      table.steps[at] = step;
      table.ts[at] = ts;
      for (let i = 0, cell = at * k; i < k; i++, cell++) {
        table.values[cell] = values[i] as number;
        table.offsets[cell] = ascii ? offset + lineStart : byteStart;
        const end = lineEnds[line++] as number;
        if (!ascii) byteStart += Buffer.byteLength(chunk.slice(lineStart, end));
        lineStart = end;
      }
    }
    this.takeTable();
  }

  /** Hands the table's rows to the builder; later rows of the same names go on into it. */
  private takeTable(): void {
    this.builder.addTable(this.table);
    this.table.rows = 0;
  }

  /** Bytes of bucket records held in memory until the next cut. */
  get heldBytes(): number {
    return this.builder.heldBytes;
  }

  /** Takes a block for the stream's first `end` bytes, written by `writePending()` once they are on disk. */
  cut(end: number, final = false): void {
    // After the final block (close, then the exit path) there is nothing left to take.
    if (this.finished) return;
    this.finished = final;
    const block = this.builder.cut(end, final);
    if (block.records.length === 0 && block.defs.length === 0 && !block.final) return;
    this.pending.push({ file: this.file, block, tail: this.tail.hashAt(end) });
  }

  /** Appends the blocks cut so far; call only after the stream bytes they cover were written. */
  writePending(stream = this.stream): void {
    const pending = this.pending;
    this.pending = [];
    for (const { file, block, tail } of pending) file.append(stream, block, tail);
  }

  /**
   * The active file, whose `end` bytes are written, was renamed to `segment` (and a new active file
   * opened): its index is finished, follows it, and a new one starts for the new file.
   */
  rotated(segment: string, end: number): void {
    this.cut(end, true);
    this.writePending(segment);
    this.finished = false;
    this.file.rename(besidePath(segment));
    this.file = new IndexFile(besidePath(this.stream), 0, process.pid);
    this.builder = new IndexBuilder();
    for (const ids of Object.values(this.byPhase)) ids.clear();
  }

  close(): void {
    this.file.close();
  }

  private id(ids: PhaseIds, phase: string, name: string): number {
    let id = ids.byName.get(name);
    if (id === undefined) {
      id = this.builder.seriesId(this.runId, phase, name);
      ids.byName.set(name, id);
    }
    return id;
  }
}
