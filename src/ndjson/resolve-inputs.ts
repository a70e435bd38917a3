/**
 * Input arguments to files: a file as it is, a directory as every *.ndjson / *.ndjson.gz below it
 * (sorted, so rotated segments come before the active file), a glob by `*`, `?` and `[…]` matched
 * against directory listings (../glob.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { UsageError } from '../errors.js';
import { listSegments } from './segments.js';
import { expandGlob, GLOB_CHARS, listDir } from './glob.js';

const NDJSON_FILE = /\.ndjson(\.gz)?$/;
function walk(dir: string, out: string[]): void {
  const entries = listDir(dir).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile() && NDJSON_FILE.test(entry.name)) out.push(full);
  }
}

/** Files to read, in order, each once. Throws UsageError naming an input that yields nothing. */
export function resolveInputs(inputs: readonly string[]): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    const matched = GLOB_CHARS.test(input) && !fs.existsSync(input) ? expandGlob(input) : [input];
    const found: string[] = [];
    for (const candidate of matched) {
      let stat: fs.Stats;
      try {
        stat = fs.statSync(candidate);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') continue;
        throw error;
      }
      if (stat.isDirectory()) walk(candidate, found);
      else {
        // An active file is the tail of its stream: its closed segments come first.
        for (const segment of listSegments(candidate)) found.push(segment.path);
        found.push(candidate);
      }
    }
    if (found.length === 0) {
      throw new UsageError(
        GLOB_CHARS.test(input)
          ? `${input}: the pattern matches no file`
          : fs.existsSync(input)
            ? `${input}: the directory holds no *.ndjson or *.ndjson.gz file`
            : `${input}: no such file or directory`,
      );
    }
    for (const file of found) if (!files.includes(file)) files.push(file);
  }
  return files;
}
