/**
 * Opens the index of one stream file for reading, bringing it up to date first: a valid index is
 * read and the stream re-read only from its last block's `resume` offset; a missing, torn or stale
 * one (the stream was cut, replaced or rewritten) is built by reading the stream. What was read is
 * appended to the index (beside the stream when that folder is writable, else in the cache folder),
 * so the next open reads less.
 */
import fs from 'node:fs';
import { errnoCode } from '../errors.js';
import type { MalformedLine } from '../ndjson/line/metric-visitor.js';
import { readMetricRecords } from '../ndjson/read-metric-records.js';
import { wholeLinesEnd } from '../ndjson/split-points.js';
import { decodeIndex, type IndexHeader, type StoredBlock } from './index-codec.js';
import { IndexBuilder, type IndexBlock, type SeriesDef } from './index-builder.js';
import { hashRange, tailHash, writtenByThisProcess } from './index-file.js';
import { indexCandidates, newIndexPath } from './index-path.js';
import { IndexingVisitor } from './indexing-visitor.js';
import { BlockWriter, MAX_PART_RECORD_BYTES } from './block-writer.js';

export { IndexingVisitor };

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Keep what was read in the index file (default true). */
  write?: boolean;
  rescanBytes?: number;
  onMalformed?: (line: MalformedLine) => void;
  /** An index that could not be written: the stream is still read, only slower next time. */
  onWarning?: (message: string) => void;
  /**
   * Read at most this many stream bytes to bring the index up to date; past it, answer undefined
   * without reading (the caller reads the stream its own faster way). Default: no limit.
   */
  maxScanBytes?: number;
  /** Answer the open buckets (default true): a build that only writes the index leaves them out. */
  openBuckets?: boolean;
  /** Bytes the stream is read in at a time (default DEFAULT_CHUNK_BYTES of read-metric-records.ts). */
  chunkBytes?: number;
  /**
   * Only the index file is wanted (a build in the background, or before a catalog opens): blocks
   * are written as the stream is read, one each MAX_PART_RECORD_BYTES of records
   * (block-writer.ts), and the answer's `defs`, `blocks` and `open` are left empty. A stream whose
   * index is smaller gets one block, as without it. Default false.
   */
  inParts?: boolean;
  /** The growth a build in parts cuts a block at (default MAX_PART_RECORD_BYTES; tests go lower). */
  partBytes?: number;
}

export interface LoadedIndex {
  /** The index file used or written; undefined when none could be written. */
  path: string | undefined;
  defs: SeriesDef[];
  /** Finished buckets of every level, in the order they were written. */
  blocks: IndexBlock[];
  /** Buckets still open after the last row read (partial, every level). */
  open: Float64Array;
  /** Stream bytes accounted for: whole lines only, the next read starts here. */
  end: number;
  /** Stream bytes read to bring the index up to date (0: the index had everything). */
  scanned: number;
  /** Whether the index found was used (false: it was missing or stale and was built anew). */
  reused: boolean;
  /** The stream's malformed lines: how many, and the first few (`line` 0: only the offset is known). */
  malformed: { count: number; samples: MalformedLine[] };
  /** Blocks this load appended to the index file (a build in parts: more than one past its bound). */
  written: number;
}

/** Adds the malformed lines of `block` to `malformed`. */
function countMalformed(malformed: LoadedIndex['malformed'], block: IndexBlock): void {
  malformed.count += block.malformed?.count ?? 0;
  malformed.samples.push(...(block.malformed?.samples ?? []));
}

/** The malformed lines an index's blocks hold, all together. */
export function indexMalformed(blocks: readonly IndexBlock[]): LoadedIndex['malformed'] {
  let count = 0;
  const samples: MalformedLine[] = [];
  for (const block of blocks) {
    count += block.malformed?.count ?? 0;
    samples.push(...(block.malformed?.samples ?? []));
  }
  return { count, samples };
}

export interface Found {
  path: string;
  header: IndexHeader;
  /** A live process writes this index as it writes the stream: read it, never append to it. */
  owned: boolean;
  blocks: StoredBlock[];
  validBytes: number;
}

/** The blocks of `candidate` that still describe `stream`, or undefined when it is stale. */
export function validBlocks(candidate: string, stream: string, fd: number | undefined): Found | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(candidate);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  return validBlocksIn(bytes, candidate, fd);
}

/** As validBlocks, reading the index file without holding the thread (a dashboard serves meanwhile). */
async function validBlocksAsync(candidate: string, fd: number | undefined): Promise<Found | undefined> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(candidate);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  return validBlocksIn(bytes, candidate, fd);
}

/** The blocks of index file `bytes` (read from `candidate`) that still describe the stream open as `fd`. */
function validBlocksIn(bytes: Buffer, candidate: string, fd: number | undefined): Found | undefined {
  const decoded = decodeIndex(bytes);
  if (decoded.header === undefined) return undefined;
  const { header } = decoded;
  if (fd === undefined) {
    // A gzip segment is closed for good: its index is whole when its last block is final.
    const last = decoded.blocks.at(-1);
    if (last === undefined || !last.final) return undefined;
    return {
      path: candidate,
      header,
      owned: false,
      blocks: decoded.blocks,
      validBytes: decoded.blockEnds.at(-1) as number,
    };
  }
  const stat = fs.fstatSync(fd);
  if (stat.ino !== header.inode || stat.size < header.headLength) return undefined;
  if (hashRange(fd, 0, header.headLength) !== header.headHash) return undefined;
  let kept = 0;
  while (kept < decoded.blocks.length && (decoded.blocks[kept] as StoredBlock).end <= stat.size) kept++;
  const last = decoded.blocks[kept - 1];
  if (last !== undefined && tailHash(fd, last.end) !== last.tailHash) return undefined;
  const final = decoded.blocks.at(-1)?.final ?? false;
  return {
    path: candidate,
    header,
    owned:
      !final &&
      (writtenByThisProcess(candidate) ||
        (header.pid !== undefined && header.pid !== 0 && header.pid !== process.pid && alive(header.pid))),
    blocks: decoded.blocks.slice(0, kept),
    validBytes: kept === 0 ? decoded.headerBytes : (decoded.blockEnds[kept - 1] as number),
  };
}

export async function loadStreamIndex(stream: string, options: LoadOptions = {}): Promise<LoadedIndex> {
  return (await loadStreamIndexWithin(stream, options)) as LoadedIndex;
}

/** loadStreamIndex, or undefined when bringing the index up to date needs more than `maxScanBytes`. */
export async function loadStreamIndexWithin(
  stream: string,
  options: LoadOptions,
): Promise<LoadedIndex | undefined> {
  const gzip = stream.endsWith('.gz');
  const fd = gzip ? undefined : fs.openSync(stream, 'r');
  let parts: BlockWriter | undefined;
  try {
    let found: Found | undefined;
    for (const candidate of indexCandidates(stream, options.env)) {
      found = await validBlocksAsync(candidate, fd);
      if (found !== undefined) break;
    }
    const builder = new IndexBuilder(options.rescanBytes);
    const blocks: IndexBlock[] = found?.blocks ?? [];
    builder.restore(blocks);
    const last = blocks.at(-1);
    const resume = last?.resume ?? 0;
    const writes = (options.write ?? true) && found?.owned !== true;
    parts =
      options.inParts === true && writes && fd !== undefined
        ? blockWriter(stream, fd, found, options)
        : undefined;
    const visitor = new IndexingVisitor(
      builder,
      options.onMalformed ?? (() => undefined),
      parts !== undefined && blocks.length === 0,
    );
    visitor.countFrom = last?.end ?? 0;
    const malformed = indexMalformed(blocks);
    /** Cuts a part and writes it; the last carries the open buckets, as a reader's one block does. */
    const writePart = (writer: BlockWriter, partEnd: number, isLast: boolean): void => {
      const block = isLast ? builder.cutLast(partEnd) : builder.cut(partEnd);
      countMalformed(malformed, block);
      writer.append(block);
      builder.forgetCutDefs();
      builder.recycle(block.records);
    };
    if (parts !== undefined) {
      visitor.partBytes = options.partBytes ?? MAX_PART_RECORD_BYTES;
      const writer = parts;
      visitor.onPart = (partEnd) => writePart(writer, partEnd, false);
    }
    // Line numbers are known when the read starts at the stream's first line.
    visitor.lineBase = resume === 0 ? 0 : undefined;
    let end = last?.end ?? 0;
    let scanned = 0;
    if (fd !== undefined) {
      const wholeEnd = wholeLinesEnd(fd, fs.fstatSync(fd).size);
      if (wholeEnd - resume > (options.maxScanBytes ?? Infinity)) return undefined;
      if (wholeEnd > resume) {
        const stats = await readMetricRecords(stream, visitor, visitor.tables, {
          fd,
          start: resume,
          end: wholeEnd,
          chunkBytes: options.chunkBytes,
          onProcessor: (processor) => (visitor.processor = processor),
        });
        scanned = stats.bytes;
        end = wholeEnd;
      }
    } else if (found === undefined) {
      if (fs.statSync(stream).size > (options.maxScanBytes ?? Infinity)) return undefined;
      const stats = await readMetricRecords(stream, visitor, visitor.tables, {
        chunkBytes: options.chunkBytes,
        onProcessor: (processor) => (visitor.processor = processor),
      });
      scanned = stats.bytes;
      end = stats.bytes;
    }
    let indexPath = found?.path;
    let written = 0;
    if (parts !== undefined) {
      if (end > (last?.end ?? 0)) writePart(parts, end, true);
      return {
        path: parts.failed ? undefined : parts.target,
        defs: [],
        blocks: [],
        open: new Float64Array(0),
        end,
        scanned,
        reused: found !== undefined,
        malformed,
        written: parts.parts,
      };
    }
    if (end > (last?.end ?? 0) || (gzip && found === undefined)) {
      // A reader cuts once per open: the block carries its open buckets (see IndexBuilder.cut).
      const block = builder.cut(end, gzip, !gzip);
      blocks.push(block);
      if (writes) indexPath = writeBlock(blockWriter(stream, fd, found, options), block);
      if (writes && indexPath !== undefined) written = 1;
    }
    return {
      path: indexPath,
      defs: builder.defs,
      blocks,
      open: (options.openBuckets ?? true) ? builder.openBuckets() : new Float64Array(0),
      end,
      scanned,
      reused: found !== undefined,
      malformed: indexMalformed(blocks),
      written,
    };
  } finally {
    parts?.close();
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** A writer of the index of `stream`: the index found (its valid bytes kept), or a new one. */
function blockWriter(
  stream: string,
  fd: number | undefined,
  found: Found | undefined,
  options: LoadOptions,
): BlockWriter {
  const target = found?.path ?? newIndexPath(stream, options.env);
  return new BlockWriter(target, found?.validBytes ?? 0, stream, fd, options.onWarning);
}

/** Appends `block` alone: the file written, or undefined when it cannot be. */
function writeBlock(writer: BlockWriter, block: IndexBlock): string | undefined {
  try {
    return writer.append(block) ? writer.target : undefined;
  } finally {
    writer.close();
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user, so it is alive.
    return errnoCode(error) === 'EPERM';
  }
}
