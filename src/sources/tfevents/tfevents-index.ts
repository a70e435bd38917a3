/**
 * The run index of a TensorBoard run (`.tfevents.idx` in the run's folder, or
 * `.<event file>.idx` beside a single event file; in the cache folder when that folder cannot be
 * written), so a large run opens at once the second time. It holds the run index's buckets
 * (src/run-index, docs/run-index.md) of every scalar the reader kept, and the reader's resume
 * point: per event file its offset, record count and search state, and the restart plan, tag kinds
 * and not-shown tags, so reading goes on after the indexed bytes exactly as one reader would.
 *
 * Each event file is tied to the index by inode, a CRC-32 of its first 4 KiB and of the 64 bytes
 * before the indexed offset; the indexed files must still be the run's first files in reading
 * order. Anything else (a file cut, replaced or rewritten, a new file sorting before an indexed
 * one) makes the index stale, and the run is read in full and indexed again.
 *
 * Bytes: "CXSIDX01" · u32 JSON length · u32 CRC-32 of the JSON · JSON · u32 record count · u32
 * CRC-32 of the records · records (18 f64 each, as in the run index). The file is written whole to
 * a temporary name and renamed over the old one.
 */
import { crc32 } from '@node-rs/crc32';
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode, errorText } from '../../errors.js';
import { RECORD_COLUMNS } from '../../run-index/bucket-record.js';
import type { SeriesDef } from '../../run-index/index-builder.js';
import { HEAD_BYTES } from '../../run-index/index-codec.js';
import { hashRange, tailHash } from '../../run-index/index-file.js';
import { indexCandidates, newIndexPath } from '../../run-index/index-path.js';
import type { TfeventsResumeState } from './tfevents-run-reader.js';

export const SOURCE_INDEX_MAGIC = Buffer.from('CXSIDX01', 'latin1');
const VERSION = 1;

interface FileIdentity {
  name: string;
  inode: number;
  next: number;
  headHash: number;
  tailHash: number;
}

interface IndexJson {
  version: number;
  kind: 'tfevents';
  files: FileIdentity[];
  /** The reader's state, with file names in place of paths. */
  state: TfeventsResumeState;
  defs: SeriesDef[];
}

export interface TfeventsIndex {
  path: string;
  defs: SeriesDef[];
  /** Finished buckets of every level (every bucket is finished: each write closes them all). */
  records: Float64Array;
  /** The reader's resume point, paths as the reader names its files. */
  state: TfeventsResumeState;
}

/** The name the index is found under (index-path.ts adds `.idx`, or picks the cache folder). */
export function indexKey(runPath: string, single: boolean): string {
  return single
    ? path.join(path.dirname(runPath), `.${path.basename(runPath)}`)
    : path.join(runPath, '.tfevents');
}

/**
 * The index of the run at `runPath`, when one exists and still describes `files` (the run's event
 * files now, in reading order); undefined otherwise.
 */
export function loadTfeventsIndex(
  runPath: string,
  single: boolean,
  files: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): TfeventsIndex | undefined {
  for (const candidate of indexCandidates(indexKey(runPath, single), env)) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(candidate);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue;
      throw error;
    }
    const decoded = decode(bytes);
    if (decoded === undefined || !describes(decoded.json.files, files)) continue;
    const byName = new Map(files.map((file) => [path.basename(file), file]));
    const state = decoded.json.state;
    return {
      path: candidate,
      defs: decoded.json.defs,
      records: decoded.records,
      state: {
        ...state,
        files: state.files.map((file) => ({ ...file, path: byName.get(file.path) as string })),
      },
    };
  }
  return undefined;
}

/** Writes the index of a run; an index that cannot be kept is told through `onWarning`, not thrown. */
export function writeTfeventsIndex(
  runPath: string,
  single: boolean,
  index: Omit<TfeventsIndex, 'path'>,
  env: NodeJS.ProcessEnv = process.env,
  onWarning: (message: string) => void = () => undefined,
): string | undefined {
  const target = newIndexPath(indexKey(runPath, single), env);
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    const files = index.state.files.map((file) => identify(file.path, file.next));
    const json: IndexJson = {
      version: VERSION,
      kind: 'tfevents',
      files,
      state: {
        ...index.state,
        files: index.state.files.map((file) => ({ ...file, path: path.basename(file.path) })),
      },
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
      `cannot keep an index of ${runPath} at ${target} (${errorText(error)}); it is read in full next time`,
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

function encode(json: IndexJson, records: Float64Array): Buffer {
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

/** The JSON and records of an index file, or undefined when it is not one, torn, or of another version. */
function decode(bytes: Buffer): { json: IndexJson; records: Float64Array } | undefined {
  const m = SOURCE_INDEX_MAGIC.length;
  if (bytes.length < m + 8 || !bytes.subarray(0, m).equals(SOURCE_INDEX_MAGIC)) return undefined;
  const length = bytes.readUInt32LE(m);
  const text = bytes.subarray(m + 8, m + 8 + length);
  if (text.length !== length || crc32(text) !== bytes.readUInt32LE(m + 4)) return undefined;
  const json = JSON.parse(text.toString()) as IndexJson;
  if (json.version !== VERSION || json.kind !== 'tfevents') return undefined;
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
