/**
 * The files a bridge reads, each once. A shell-expanded `.codex/*.ndjson` names a rotated stream's
 * closed segments beside its active file, and a file may be given twice (or through a link): the
 * segments are read through their active file anyway, so listing them again would replay rows twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { listSegments } from './segments.js';

export interface StreamPlan {
  /** Distinct files to read, in the order given. */
  files: string[];
  /** Inputs left out, each with the reason (for one diagnostic line each). */
  skipped: { file: string; reason: string }[];
}

function identity(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return path.resolve(file);
    throw error;
  }
}

export function planStreams(inputs: readonly string[]): StreamPlan {
  const files: string[] = [];
  const skipped: StreamPlan['skipped'] = [];
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const file = path.resolve(input);
    const id = identity(file);
    const first = seen.get(id);
    if (first !== undefined) {
      skipped.push({ file, reason: first === file ? 'given more than once' : `the same file as ${first}` });
      continue;
    }
    seen.set(id, file);
    files.push(file);
  }
  const segmentOf = new Map<string, string>();
  for (const file of files) {
    for (const segment of listSegments(file)) segmentOf.set(identity(segment.path), file);
  }
  const kept = files.filter((file) => {
    const active = segmentOf.get(identity(file));
    if (active === undefined) return true;
    skipped.push({ file, reason: `a closed segment of ${active}, read with it` });
    return false;
  });
  return { files: kept, skipped };
}
