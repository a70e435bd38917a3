/**
 * Appends blocks to one index file. The header is written with the first block (it hashes the
 * stream's head, which exists only then); every block records the stream bytes it accounts for and
 * a hash of the bytes just before that end, so a reader can tell the stream was cut or replaced.
 * Writes are synchronous and small (a block per flush); a failure is reported once by the caller
 * and the index is given up: readers then build their own.
 */
import { crc32 } from './crc32.js';
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import {
  encodeBlock,
  encodeBlockParts,
  encodeHeader,
  HEAD_BYTES,
  TAIL_BYTES,
  type IndexHeader,
  type StoredBlock,
} from './index-codec.js';
import type { IndexBlock } from './index-builder.js';

/** CRC-32 of the stream's bytes [from, to), read through `fd`. */
export function hashRange(fd: number, from: number, to: number): number {
  const bytes = Buffer.alloc(Math.max(0, to - from));
  let at = 0;
  while (at < bytes.length) {
    const n = fs.readSync(fd, bytes, at, bytes.length - at, from + at);
    if (n === 0) break;
    at += n;
  }
  return crc32(bytes.subarray(0, at));
}

export function tailHash(fd: number, end: number): number {
  return hashRange(fd, Math.max(0, end - TAIL_BYTES), end);
}

/**
 * Index files a writer of this process appends to (the NDJSON sink, the bridge). A header's pid
 * cannot tell a reader in the same process (the dashboard inside `tail`, `run` or `demo`) that
 * the index is taken, since a pid equal to its own may as well be a dead container's.
 */
const writtenHere = new Set<string>();

export function writtenByThisProcess(file: string): boolean {
  return writtenHere.has(file);
}

export class IndexFile {
  private fd: number | undefined;
  private position: number;
  private headerWritten: boolean;

  /**
   * @param path the index file
   * @param validBytes its bytes known good (header and whole blocks); anything after (a torn
   *   block, blocks of a cut stream) is cut off before the next append. 0: start a new file.
   */
  constructor(
    readonly path: string,
    validBytes = 0,
    /** The writing process, named in the header so readers leave the index alone while it lives. */
    private readonly pid = 0,
  ) {
    this.position = validBytes;
    this.headerWritten = validBytes > 0;
    if (pid !== 0) writtenHere.add(path);
  }

  /**
   * Appends a block for `stream` (read for the header and tail hashes). Without a stream (a gzip
   * segment, closed for good) the block carries no hashes. `knownTail`: the block's tail hash when
   * the caller has it (a writer keeps the bytes it appended); the stream is then opened only for
   * the header.
   */
  append(stream: string | undefined, block: IndexBlock, knownTail?: number): void {
    if (stream !== undefined && knownTail !== undefined && this.headerWritten) {
      this.write(encodeBlockParts(block, knownTail));
      return;
    }
    const streamFd = stream === undefined ? undefined : fs.openSync(stream, 'r');
    try {
      this.appendThrough(streamFd, block);
    } finally {
      if (streamFd !== undefined) fs.closeSync(streamFd);
    }
  }

  /** As `append`, reading the stream through an open descriptor (a follower's, which a rotation
   * may have renamed away from the stream's path). */
  appendThrough(streamFd: number | undefined, block: IndexBlock): void {
    const parts: Buffer[] = [];
    if (!this.headerWritten) {
      const headLength = streamFd === undefined ? 0 : Math.min(HEAD_BYTES, block.end);
      parts.push(
        encodeHeader({
          inode: streamFd === undefined ? 0 : fs.fstatSync(streamFd).ino,
          headLength,
          headHash: streamFd === undefined ? 0 : hashRange(streamFd, 0, headLength),
          pid: this.pid,
        }),
      );
    }
    parts.push(...encodeBlockParts(block, streamFd === undefined ? 0 : tailHash(streamFd, block.end)));
    this.write(parts);
  }

  /** The index moves with its stream (rotation renames the active file to a segment). */
  rename(to: string): void {
    this.close();
    fs.renameSync(this.path, to);
    (this as { path: string }).path = to;
    if (this.pid !== 0) writtenHere.add(to);
  }

  /** Closes the file; this process no longer writes it (a later append opens it again). */
  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    writtenHere.delete(this.path);
  }

  /**
   * Writes `parts` at the end, in one call (a flush's block is a head and its records), not joined:
   * a first block can be tens of MB (see encodeBlockParts).
   */
  private write(parts: readonly Buffer[]): void {
    const fd = this.open();
    const total = parts.reduce((sum, bytes) => sum + bytes.length, 0);
    let written = fs.writevSync(fd, parts, this.position);
    // A short write (rare on a regular file) is finished part by part.
    let partAt = this.position;
    for (const bytes of parts) {
      for (let at = Math.min(written, bytes.length); at < bytes.length;)
        at += fs.writeSync(fd, bytes, at, bytes.length - at, partAt + at);
      written = Math.max(0, written - bytes.length);
      partAt += bytes.length;
    }
    this.position += total;
    this.headerWritten = true;
  }

  private open(): number {
    if (this.fd === undefined) {
      fs.mkdirSync(path.dirname(this.path), { recursive: true });
      let fd: number;
      try {
        fd = fs.openSync(this.path, 'r+');
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw error;
        fd = fs.openSync(this.path, 'w+');
      }
      fs.ftruncateSync(fd, this.position);
      this.fd = fd;
      if (this.pid !== 0) writtenHere.add(this.path);
    }
    return this.fd;
  }
}

/**
 * Rewrites an index under a new header (another writing process) with the blocks it holds, to a
 * temporary name and then over it, so a reader sees the old file or the new one, whole. Returns
 * the bytes written.
 */
export function rewriteIndex(file: string, header: IndexHeader, blocks: readonly StoredBlock[]): number {
  const bytes = Buffer.concat([encodeHeader(header), ...blocks.map((b) => encodeBlock(b, b.tailHash))]);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, bytes);
  fs.renameSync(temporary, file);
  return bytes.length;
}
