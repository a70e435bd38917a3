/**
 * The run index of a foreign run (a TensorBoard run or a W&B log), so a large run opens at once the
 * second time. It holds the run index's buckets (src/run-index, docs/run-index.md) of every scalar
 * the reader kept, and the reader's own resume state (its shape is the caller's), so reading goes on
 * after the indexed bytes exactly as one reader would.
 *
 * Each file the reader read is tied to the index by name, inode, a CRC-32 of its first 4 KiB and of
 * the 64 bytes before the indexed offset; the indexed files must still be the run's first files in
 * reading order. Anything else (a file cut, replaced or rewritten, a new file sorting before an
 * indexed one) makes the index stale, and the run is read in full and indexed again.
 *
 * Bytes: "CXSIDX01" · u32 JSON length · u32 CRC-32 of the JSON · JSON · u32 record count · u32
 * CRC-32 of the records · records (18 f64 each, as in the run index). The file is written whole to
 * a temporary name and renamed over the old one, so a reader sees the old index or the new one; a
 * torn one (a crash in the middle of a copy, a full disk) fails its CRCs and is ignored.
 */
import { crc32 } from '../run-index/crc32.js';
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode, errorText } from '../errors.js';
import { RECORD_COLUMNS } from '../run-index/bucket-record.js';
import type { SeriesDef } from '../run-index/index-builder.js';
import { HEAD_BYTES } from '../run-index/index-codec.js';
import { hashRange, tailHash } from '../run-index/index-file.js';
import { indexCandidates, newIndexPath } from '../run-index/index-path.js';

export const SOURCE_INDEX_MAGIC = Buffer.from('CXSIDX01', 'latin1');
const VERSION = 1;

export type SourceIndexKind = 'tfevents' | 'wandb';

interface FileIdentity {
  name: string;
  inode: number;
  next: number;
  headHash: number;
  tailHash: number;
}

interface IndexJson<S> {
  version: number;
  kind: SourceIndexKind;
  files: FileIdentity[];
  state: S;
  defs: SeriesDef[];
}

export interface SourceIndex<S> {
  path: string;
  defs: SeriesDef[];
  /** Finished buckets of every level (every bucket is finished: each write closes them all). */
  records: Float64Array;
  /** The reader's resume state, as it was written. */
  state: S;
  /** Run bytes the index accounts for (its files up to their offsets): the rest is read after it. */
  indexedBytes: number;
}

/** A file the reader read, and the offset up to which the index accounts for it. */
export interface IndexedFile {
  path: string;
  next: number;
}

/**
 * The index of kind `kind` found under `key` (index-path.ts adds `.idx`, or picks the cache
 * folder), when one exists and still describes `files` (the run's files now, in reading order);
 * undefined otherwise.
 */
export function loadSourceIndex<S>(
  key: string,
  kind: SourceIndexKind,
  files: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): SourceIndex<S> | undefined {
  for (const candidate of indexCandidates(key, env)) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(candidate);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue;
      throw error;
    }
    const decoded = decode<S>(bytes, kind);
    if (decoded === undefined || !describes(decoded.json.files, files)) continue;
    return {
      path: candidate,
      defs: decoded.json.defs,
      records: decoded.records,
      state: decoded.json.state,
      indexedBytes: decoded.json.files.reduce((sum, file) => sum + file.next, 0),
    };
  }
  return undefined;
}

/**
 * Writes the index under `key`; `files` are what the reader read, each up to its offset. An index
 * that cannot be kept (no room, no right to write) is told through `onWarning`, not thrown.
 */
export function writeSourceIndex<S>(
  key: string,
  kind: SourceIndexKind,
  index: { run: string; files: readonly IndexedFile[]; state: S; defs: SeriesDef[]; records: Float64Array },
  env: NodeJS.ProcessEnv = process.env,
  onWarning: (message: string) => void = () => undefined,
): string | undefined {
  const target = newIndexPath(key, env);
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    const json: IndexJson<S> = {
      version: VERSION,
      kind,
      files: index.files.map((file) => identify(file.path, file.next)),
      state: index.state,
      defs: index.defs,
    };
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(temporary, encode(json, index.records));
    fs.renameSync(temporary, target);
    return target;
  } catch (error) {
    const code = errnoCode(error);
    if (code !== 'EACCES' && code !== 'EROFS' && code !== 'ENOSPC' && code !== 'EPERM' && code !== 'EDQUOT')
      throw error;
    fs.rmSync(temporary, { force: true });
    onWarning(
      `cannot keep an index of ${index.run} at ${target} (${errorText(error)}); it is read in full next time`,
    );
    return undefined;
  }
}

function identify(file: string, next: number): FileIdentity {
  const fd = fs.openSync(file, 'r');
  try {
    return {
      name: path.basename(file),
      inode: fs.fstatSync(fd).ino,
      next,
      headHash: hashRange(fd, 0, Math.min(HEAD_BYTES, next)),
      tailHash: tailHash(fd, next),
    };
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether every indexed file is still the same file, unchanged up to its offset, and in its place. */
function describes(indexed: readonly FileIdentity[], files: readonly string[]): boolean {
  if (indexed.length > files.length) return false;
  return indexed.every((identity, i) => {
    const file = files[i] as string;
    if (path.basename(file) !== identity.name) return false;
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false;
      throw error;
    }
    try {
      const stat = fs.fstatSync(fd);
      return (
        stat.ino === identity.inode &&
        stat.size >= identity.next &&
        hashRange(fd, 0, Math.min(HEAD_BYTES, identity.next)) === identity.headHash &&
        tailHash(fd, identity.next) === identity.tailHash
      );
    } finally {
      fs.closeSync(fd);
    }
  });
}

function encode<S>(json: IndexJson<S>, records: Float64Array): Buffer {
  const text = Buffer.from(JSON.stringify(json));
  const body = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
  const head = Buffer.alloc(SOURCE_INDEX_MAGIC.length + 8);
  SOURCE_INDEX_MAGIC.copy(head);
  head.writeUInt32LE(text.length, SOURCE_INDEX_MAGIC.length);
  head.writeUInt32LE(crc32(text), SOURCE_INDEX_MAGIC.length + 4);
  const mid = Buffer.alloc(8);
  mid.writeUInt32LE(records.length / RECORD_COLUMNS, 0);
  mid.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([head, text, mid, body]);
}

/** The JSON and records of an index file, or undefined when it is not one, torn, or of another version or kind. */
function decode<S>(
  bytes: Buffer,
  kind: SourceIndexKind,
): { json: IndexJson<S>; records: Float64Array } | undefined {
  const m = SOURCE_INDEX_MAGIC.length;
  if (bytes.length < m + 8 || !bytes.subarray(0, m).equals(SOURCE_INDEX_MAGIC)) return undefined;
  const length = bytes.readUInt32LE(m);
  const text = bytes.subarray(m + 8, m + 8 + length);
  if (text.length !== length || crc32(text) !== bytes.readUInt32LE(m + 4)) return undefined;
  const json = JSON.parse(text.toString()) as IndexJson<S>;
  if (json.version !== VERSION || json.kind !== kind) return undefined;
  const at = m + 8 + length;
  if (bytes.length < at + 8) return undefined;
  const count = bytes.readUInt32LE(at);
  const body = bytes.subarray(at + 8, at + 8 + count * RECORD_COLUMNS * 8);
  if (body.length !== count * RECORD_COLUMNS * 8 || crc32(body) !== bytes.readUInt32LE(at + 4))
    return undefined;
  // Copied: the records must be 8-byte aligned, which a slice of the file's bytes need not be.
  const records = new Float64Array(count * RECORD_COLUMNS);
  Buffer.from(records.buffer).set(body);
  return { json, records };
}
