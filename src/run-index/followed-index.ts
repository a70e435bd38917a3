/**
 * The index a follower keeps for a stream it reads but does not write (the bridge tailing a
 * trainer's NDJSON), so a dashboard that opens the stream later reads only the index. After each
 * poll the rows past what it indexed are read into its builder (the same reader and visitor that
 * build an index for a dashboard, so it holds the same buckets) and a block is appended.
 *
 * - An index whose writer lives (the NDJSON sink writes its own, its pid in the header) is left to
 *   that writer; it is taken over once that process is gone.
 * - An index found unowned (built by a reader, left by a writer that exited) is taken over: it is
 *   rewritten under this process's pid first, so readers stop appending to it.
 * - Rotation: the file renamed away is read to its end through the descriptor still open on it,
 *   its index finished and moved beside the segment it became; the new file starts a new index.
 * - Truncation or a rewrite (the bytes before the indexed end changed): the index starts over.
 * Failures are reported once and the index is given up: readers then build their own.
 */
import fs from 'node:fs';
import { errnoCode, errorText } from '../errors.js';
import { readMetricRecords } from '../ndjson/read-metric-records.js';
import { listSegments } from '../ndjson/segments.js';
import { wholeLinesEnd } from '../ndjson/split-points.js';
import { HEAD_BYTES } from './index-codec.js';
import { IndexBuilder } from './index-builder.js';
import { hashRange, IndexFile, rewriteIndex, tailHash } from './index-file.js';
import { besidePath, cachePath, indexCandidates, newIndexPath } from './index-path.js';
import { alive, IndexingVisitor, validBlocks, type Found } from './stream-index.js';

/** The read buffer for a catch-up: large for a first read of a big stream, small for a poll's rows. */
const MIN_CHUNK_BYTES = 64 << 10;
const MAX_CHUNK_BYTES = 4 << 20;

export interface FollowedIndexOptions {
  /** For the cache folder (XDG_CACHE_HOME); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Said once, when the index is given up. */
  warn: (message: string) => void;
}

export class FollowedIndex {
  private fd: number | undefined;
  private inode = -1;
  /** 'write': this process keeps the index; 'writer': a live writer does; 'off': given up. */
  private mode: 'write' | 'writer' | 'off' = 'write';
  private writerPid = 0;
  private builder = new IndexBuilder();
  private visitor = new IndexingVisitor(this.builder, () => undefined);
  /** The index found when the file was opened, taken over on the first append. */
  private found: Found | undefined;
  private file: IndexFile | undefined;
  /** Stream bytes read into the builder (a line start). */
  private fed = 0;
  /** The file's size at the last step. */
  private seenSize = -1;
  /** The end of the last block written, and the CRC-32 of the bytes just before it. */
  private written = 0;
  private writtenTail = 0;
  /** The stream's first bytes as first indexed, to notice a rewrite. */
  private headLength = 0;
  private headHash = 0;
  /** Segments up to this sequence number existed before the file now followed was opened. */
  private knownSeq: number;

  constructor(
    readonly stream: string,
    private readonly options: FollowedIndexOptions,
  ) {
    this.knownSeq = lastSeq(stream);
  }

  /** Indexes the whole lines the stream holds now (after a poll of its follower). */
  async update(): Promise<void> {
    await this.guarded(() => this.step());
  }

  /** The writer is done: everything the file holds is indexed, the last line too, and finished. */
  async finish(): Promise<void> {
    await this.guarded(async () => {
      await this.step();
      const fd = this.fd;
      if (fd !== undefined && this.mode === 'write') {
        const size = fs.fstatSync(fd).size;
        await this.feed(size);
        this.cut(size, true);
      }
    });
    this.close();
  }

  close(): void {
    this.file?.close();
    this.file = undefined;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private get writing(): boolean {
    return this.mode === 'write';
  }

  private async guarded(work: () => Promise<void>): Promise<void> {
    if (this.mode === 'off') return;
    try {
      await work();
    } catch (error) {
      if (errnoCode(error) === undefined) throw error;
      this.mode = 'off';
      this.close();
      this.options.warn(
        `codex-telemetry: cannot keep the run index of ${this.stream} (${errorText(error)}); readers will build it`,
      );
    }
  }

  private async step(): Promise<void> {
    if (this.fd === undefined && !this.open()) return;
    const current = statOrUndefined(this.stream);
    if (current === undefined || current.ino !== this.inode) {
      await this.rotated();
      if (!this.open()) return;
    }
    if (this.mode === 'writer') {
      if (alive(this.writerPid)) return;
      // The writer is gone (it exited or crashed): what it left is taken over.
      this.close();
      if (!this.open() || !this.writing) return;
    }
    const fd = this.fd as number;
    const size = fs.fstatSync(fd).size;
    // Polled while nothing was written: the checks below read the file, skip them.
    if (size === this.seenSize && size === this.fed) return;
    this.seenSize = size;
    if (size < this.fed || this.rewritten(fd)) this.restart();
    await this.feed(wholeLinesEnd(fd, size));
    this.cut(this.fed, false);
  }

  /** Opens the stream's current file and takes up its index. False when there is no file (yet). */
  private open(): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.stream, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false;
      throw error;
    }
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) {
      // A FIFO or a device has no offsets to index.
      fs.closeSync(fd);
      this.mode = 'off';
      return false;
    }
    this.fd = fd;
    this.inode = stat.ino;
    let found: Found | undefined;
    for (const candidate of indexCandidates(this.stream, this.options.env)) {
      found = validBlocks(candidate, this.stream, fd);
      if (found !== undefined) break;
    }
    this.restart();
    if (found?.owned === true) {
      this.mode = 'writer';
      this.writerPid = found.header.pid ?? 0;
      return true;
    }
    this.mode = 'write';
    this.found = found;
    this.builder.restore(found?.blocks ?? []);
    const last = found?.blocks.at(-1);
    // Rows from the last block's resume on are read again into the open buckets (covered ones skipped).
    this.fed = last?.resume ?? 0;
    this.written = last?.end ?? 0;
    this.writtenTail = last?.tailHash ?? 0;
    this.visitor.countFrom = this.written;
    this.visitor.lineBase = this.fed === 0 ? 0 : undefined;
    return true;
  }

  /** Starts the index of the open file over (it was truncated or rewritten, or is new). */
  private restart(): void {
    this.builder = new IndexBuilder();
    this.visitor = new IndexingVisitor(this.builder, () => undefined);
    const target = this.file?.path;
    this.file?.close();
    // The old index file is cut to nothing on the next append.
    this.file = target === undefined ? undefined : new IndexFile(target, 0, process.pid);
    this.found = undefined;
    this.fed = 0;
    this.seenSize = -1;
    this.written = 0;
    this.writtenTail = 0;
    this.headLength = 0;
  }

  /** Whether the bytes already indexed are no longer what the file holds. */
  private rewritten(fd: number): boolean {
    if (this.headLength > 0 && hashRange(fd, 0, this.headLength) !== this.headHash) return true;
    return this.written > 0 && tailHash(fd, this.written) !== this.writtenTail;
  }

  private async feed(end: number): Promise<void> {
    const fd = this.fd as number;
    if (end <= this.fed) return;
    const visitor = this.visitor;
    const stats = await readMetricRecords(this.stream, visitor, visitor.tables, {
      fd,
      gzip: false,
      start: this.fed,
      end,
      chunkBytes: Math.min(MAX_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, end - this.fed)),
      onProcessor: (processor) => (visitor.processor = processor),
    });
    this.fed = end;
    if (visitor.lineBase !== undefined) visitor.lineBase += stats.lines;
    if (this.headLength === 0) {
      this.headLength = Math.min(HEAD_BYTES, end);
      this.headHash = hashRange(fd, 0, this.headLength);
    }
  }

  /** Appends a block for the file's first `end` bytes when it holds anything new. */
  private cut(end: number, final: boolean): void {
    const fd = this.fd as number;
    const block = this.builder.cut(end, final);
    if (block.records.length === 0 && block.defs.length === 0 && !final) return;
    const file = (this.file ??= this.takeOver());
    file.appendThrough(fd, block);
    this.written = end;
    this.writtenTail = tailHash(fd, end);
  }

  /** The index file this process appends to: the one found, under this process's pid, or a new one. */
  private takeOver(): IndexFile {
    const found = this.found;
    this.found = undefined;
    if (found === undefined)
      return new IndexFile(newIndexPath(this.stream, this.options.env), 0, process.pid);
    const bytes = rewriteIndex(found.path, { ...found.header, pid: process.pid }, found.blocks);
    return new IndexFile(found.path, bytes, process.pid);
  }

  /**
   * The path names another file (or none): the one open was rotated away (or removed). It is
   * complete: read to its end, its index finished and moved beside the segment it became.
   */
  private async rotated(): Promise<void> {
    const fd = this.fd as number;
    if (this.mode === 'write') {
      const size = fs.fstatSync(fd).size;
      await this.feed(size);
      this.cut(size, true);
      const file = this.file as IndexFile;
      // The old file became the lowest new segment (perhaps gzipped since); none: it was removed.
      const segment = listSegments(this.stream).find((s) => s.seq > this.knownSeq);
      if (segment === undefined) fs.rmSync(file.path, { force: true });
      else
        file.rename(
          file.path === besidePath(this.stream)
            ? besidePath(segment.path)
            : cachePath(segment.path, this.options.env),
        );
    }
    this.knownSeq = lastSeq(this.stream);
    this.close();
  }
}

function lastSeq(stream: string): number {
  return listSegments(stream).reduce((last, segment) => Math.max(last, segment.seq), 0);
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}
