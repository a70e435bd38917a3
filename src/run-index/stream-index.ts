/**
 * Opens the index of one stream file for reading, bringing it up to date first: a valid index is
 * read and the stream re-read only from its last block's `resume` offset; a missing, torn or stale
 * one (the stream was cut, replaced or rewritten) is built by reading the stream. What was read is
 * appended to the index (beside the stream when that folder is writable, else in the cache folder),
 * so the next open reads less.
 */
import fs from 'node:fs';
import { errnoCode, errorText } from '../errors.js';
import type { MetricVisitor, PhaseId, MalformedLine } from '../ndjson/line/metric-visitor.js';
import { PHASE_NAMES } from '../ndjson/line/metric-visitor.js';
import { NameTable } from '../ndjson/line/name-table.js';
import type { LineProcessor } from '../ndjson/line/line-processor.js';
import { readMetricRecords } from '../ndjson/read-metric-records.js';
import { wholeLinesEnd } from '../ndjson/split-points.js';
import { decodeIndex, type IndexHeader, type StoredBlock } from './index-codec.js';
import { IndexBuilder, type IndexBlock, type SeriesDef } from './index-builder.js';
import { hashRange, IndexFile, tailHash, writtenByThisProcess } from './index-file.js';
import { indexCandidates, newIndexPath } from './index-path.js';

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

/** Feeds re-read rows to the builder, skipping those already in a finished level-0 bucket. */
export class IndexingVisitor implements MetricVisitor {
  processor: LineProcessor | undefined;
  readonly tables = { names: new NameTable(), runs: new NameTable() };
  private readonly ids: number[][][] = [[], [], []];

  constructor(
    private readonly builder: IndexBuilder,
    private readonly onMalformed: (line: MalformedLine) => void,
  ) {}

  scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number): void {
    const byRun = this.ids[phase] as number[][];
    const byName = (byRun[run + 1] ??= []);
    let id = byName[name];
    if (id === undefined) {
      id = this.builder.seriesId(
        run < 0 ? '' : this.tables.runs.name(run),
        PHASE_NAMES[phase],
        this.tables.names.name(name),
      );
      byName[name] = id;
    }
    const offset = (this.processor as LineProcessor).lineStart;
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
    const visitor = new IndexingVisitor(builder, options.onMalformed ?? (() => undefined));
    visitor.countFrom = last?.end ?? 0;
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
    if (end > (last?.end ?? 0) || (gzip && found === undefined)) {
      // A reader cuts once per open: the block carries its open buckets (see IndexBuilder.cut).
      const block = builder.cut(end, gzip, !gzip);
      blocks.push(block);
      if ((options.write ?? true) && found?.owned !== true)
        indexPath = writeBlock(stream, found, block, options);
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
    };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function writeBlock(
  stream: string,
  found: Found | undefined,
  block: IndexBlock,
  options: LoadOptions,
): string | undefined {
  const target = found?.path ?? newIndexPath(stream, options.env);
  const file = new IndexFile(target, found?.validBytes ?? 0);
  try {
    file.append(stream.endsWith('.gz') ? undefined : stream, block);
    return target;
  } catch (error) {
    const code = errnoCode(error);
    if (code !== 'EACCES' && code !== 'EROFS' && code !== 'ENOSPC' && code !== 'EPERM' && code !== 'EDQUOT')
      throw error;
    options.onWarning?.(
      `cannot keep an index of ${stream} at ${target} (${errorText(error)}); it is read in full next time`,
    );
    return undefined;
  } finally {
    file.close();
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
