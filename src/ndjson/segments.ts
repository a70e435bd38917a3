/**
 * Names and order of a rotated NDJSON stream. The active file keeps its name
 * (`metrics.ndjson`); closed segments insert a zero-padded sequence number before the extension
 * (`metrics.000001.ndjson`, gzipped: `metrics.000001.ndjson.gz`), so globs still find them and
 * names sort in write order. Readers take the segments in sequence order, then the active file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';

const SEQ_DIGITS = 6;

function split(activePath: string): { dir: string; stem: string; ext: string } {
  const dir = path.dirname(activePath);
  const base = path.basename(activePath);
  const ext = base.endsWith('.ndjson') ? '.ndjson' : path.extname(base);
  return { dir, stem: base.slice(0, base.length - ext.length), ext };
}

export function segmentPath(activePath: string, seq: number): string {
  const { dir, stem, ext } = split(activePath);
  return path.join(dir, `${stem}.${String(seq).padStart(SEQ_DIGITS, '0')}${ext}`);
}

export interface Segment {
  seq: number;
  path: string;
  gzip: boolean;
}

/** Closed segments of a stream in sequence order. A segment present both plain and gzipped (a
 * crash between writing the .gz and removing the original) is listed once, plain. */
export function listSegments(activePath: string): Segment[] {
  const { dir, stem, ext } = split(activePath);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return [];
    throw error;
  }
  const pattern = new RegExp(`^${escape(stem)}\\.(\\d{${SEQ_DIGITS},})${escape(ext)}(\\.gz)?$`);
  const bySeq = new Map<number, Segment>();
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match) continue;
    const seq = Number(match[1]);
    const gzip = match[2] !== undefined;
    const existing = bySeq.get(seq);
    if (existing && !existing.gzip) continue;
    bySeq.set(seq, { seq, path: path.join(dir, name), gzip });
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Every file of the stream, oldest first: closed segments, then the active file if it exists. */
export function streamFiles(activePath: string): string[] {
  const files = listSegments(activePath).map((segment) => segment.path);
  if (fs.existsSync(activePath)) files.push(activePath);
  return files;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
