/**
 * The index an NDJSON sink keeps beside the stream it writes: rows go into the builder as they are
 * encoded (no I/O), and each flush appends one block once the stream bytes it accounts for are
 * written, so the index never claims rows the stream lacks. The header names the writing process:
 * readers leave an index alone while its writer lives.
 */
import type { Row } from '../pipeline/row.js';
import { IndexBuilder, type IndexBlock } from './index-builder.js';
import { IndexFile } from './index-file.js';
import { besidePath } from './index-path.js';

export class SinkIndex {
  private builder = new IndexBuilder();
  private file: IndexFile;
  private finished = false;
  private pending: { file: IndexFile; block: IndexBlock }[] = [];
  private readonly byPhase = {
    train: new Map<string, number>(),
    eval: new Map<string, number>(),
    system: new Map<string, number>(),
  };

  constructor(
    private stream: string,
    private readonly runId: string,
  ) {
    this.file = new IndexFile(besidePath(stream), 0, process.pid);
  }

  /**
   * Takes the rows of one appended chunk: `rows[i]` was encoded as `chunk[ends[i-1], ends[i])`,
   * `bytes` is the chunk's UTF-8 length and `offset` the stream byte where it starts.
   */
  addRows(
    rows: readonly Row[],
    ends: readonly number[],
    count: number,
    chunk: string,
    bytes: number,
    offset: number,
  ): void {
    // ASCII (the usual case): characters are bytes, and line starts come from indexOf alone.
    const ascii = bytes === chunk.length;
    let at = 0;
    let byteAt = offset;
    for (let r = 0; r < count; r++) {
      const row = rows[r] as Row;
      const ids = this.byPhase[row.phase];
      const step = typeof row.step === 'bigint' ? Number(row.step) : row.step;
      // The stream holds the time rounded to microseconds (encodeTs); so does the index.
      const ts = Math.round(row.ts * 1e6) / 1e6;
      const { names, values } = row;
      const system = row.phase === 'system';
      for (let i = 0; i < names.length; i++) {
        const lineStart = ascii ? offset + at : byteAt;
        this.builder.add(
          this.id(ids, row.phase, names[i] as string),
          step,
          ts,
          values[i] as number,
          lineStart,
        );
        if (system) continue;
        const next = chunk.indexOf('\n', at) + 1;
        if (!ascii) byteAt += Buffer.byteLength(chunk.slice(at, next));
        at = next;
      }
      if (system) {
        const next = ends[r] as number;
        if (!ascii) byteAt += Buffer.byteLength(chunk.slice(at, next));
        at = next;
      }
    }
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
    this.pending.push({ file: this.file, block });
  }

  /** Appends the blocks cut so far; call only after the stream bytes they cover were written. */
  writePending(stream = this.stream): void {
    const pending = this.pending;
    this.pending = [];
    for (const { file, block } of pending) file.append(stream, block);
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
    for (const map of Object.values(this.byPhase)) map.clear();
  }

  close(): void {
    this.file.close();
  }

  private id(ids: Map<string, number>, phase: string, name: string): number {
    let id = ids.get(name);
    if (id === undefined) {
      id = this.builder.seriesId(this.runId, phase, name);
      ids.set(name, id);
    }
    return id;
  }
}
