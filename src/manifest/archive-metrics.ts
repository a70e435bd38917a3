/**
 * Archive on checkpoint (#11): place the metric streams written so far beside a checkpoint, so the
 * checkpoint carries its own history. Closed rotation segments never change again, so they are hard
 * linked (no bytes copied) when the file system allows; a file still being appended to is copied up
 * to its last complete line, because a link would keep growing with lines written after the save.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { diag } from '@opentelemetry/api';
import { errnoCode } from '../errors.js';
import { sha256File } from './file-digest.js';

export interface ArchivedFile {
  /** File name inside the archive folder. */
  name: string;
  /** Absolute path of the stream file it came from. */
  source: string;
  size_bytes: number;
  sha256: string;
  method: 'link' | 'copy';
}

/** A closed NDJSON rotation segment (`metrics.000001.ndjson`, `.ndjson.gz`): see
 * src/ndjson/segments.ts for the naming. */
const CLOSED_SEGMENT = /\.\d{6,}\.ndjson(\.gz)?$/;
/** link(2) failures that mean "this file system cannot link here", so a copy is the answer. */
const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);
const TAIL_CHUNK = 64 * 1024;

export function isClosedSegment(file: string): boolean {
  return CLOSED_SEGMENT.test(path.basename(file));
}

/**
 * Copies or links each file into `archiveDir` (created if needed) and returns what it placed, in
 * the order given. Files that do not exist (an eval stream never written) are skipped; any other
 * failure throws for the caller to record.
 */
export async function archiveMetricsFiles(
  archiveDir: string,
  files: readonly string[],
): Promise<ArchivedFile[]> {
  await fs.promises.mkdir(archiveDir, { recursive: true });
  const taken = new Set<string>();
  const archived: ArchivedFile[] = [];
  for (const [index, file] of files.entries()) {
    const source = path.resolve(file);
    const base = path.basename(source);
    // Two streams may share a base name in different folders; keep both.
    const name = taken.has(base) ? `${index}-${base}` : base;
    const dest = path.join(archiveDir, name);
    let placed: ArchivedFile | undefined;
    try {
      placed = await place(source, dest, name);
    } catch (error) {
      // Only a missing source is skipped; a vanished archive folder is a real failure.
      if (errnoCode(error) !== 'ENOENT' || fs.existsSync(source)) throw error;
      diag.debug(`codex-telemetry: metrics file ${source} not archived: it does not exist`);
    }
    if (placed) {
      taken.add(name);
      archived.push(placed);
    }
  }
  return archived;
}

async function place(source: string, dest: string, name: string): Promise<ArchivedFile> {
  // Archiving the same checkpoint twice replaces the earlier copy rather than failing on EEXIST.
  await fs.promises.rm(dest, { force: true });
  if (isClosedSegment(source)) {
    try {
      await fs.promises.link(source, dest);
      const { size } = await fs.promises.stat(dest);
      return { name, source, size_bytes: size, sha256: await sha256File(dest), method: 'link' };
    } catch (error) {
      if (!LINK_UNSUPPORTED.has(errnoCode(error) ?? '')) throw error;
      diag.debug(`codex-telemetry: hard link of ${source} refused (${errnoCode(error)}); copying`);
    }
  }
  const length = isClosedSegment(source)
    ? (await fs.promises.stat(source)).size
    : await completeLength(source);
  const sha256 = await copyPrefix(source, dest, length);
  return { name, source, size_bytes: length, sha256, method: 'copy' };
}

/** Bytes up to and including the last newline: a writer may be mid-line at this instant. */
async function completeLength(file: string): Promise<number> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(TAIL_CHUNK);
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - TAIL_CHUNK);
      const { bytesRead } = await handle.read(buffer, 0, end - start, start);
      const newline = buffer.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (newline !== -1) return start + newline + 1;
      end = start;
    }
    return 0;
  } finally {
    await handle.close();
  }
}

/** Copies the first `length` bytes of `source` to a new `dest`, hashing them on the way. */
async function copyPrefix(source: string, dest: string, length: number): Promise<string> {
  const hash = createHash('sha256');
  const out = fs.createWriteStream(dest, { flags: 'wx' });
  if (length === 0) {
    out.end();
    await new Promise<void>((resolve, reject) => out.once('finish', resolve).once('error', reject));
    return hash.digest('hex');
  }
  await pipeline(
    fs.createReadStream(source, { start: 0, end: length - 1 }),
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        yield chunk;
      }
    },
    out,
  );
  return hash.digest('hex');
}
