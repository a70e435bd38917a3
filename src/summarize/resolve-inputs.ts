/**
 * Inputs for `codex-ndjson`: files, directories (every *.ndjson / *.ndjson.gz inside, recursively)
 * and simple globs (`*`, `?` in the last path part). A rotated stream reads as one: segments in
 * sequence order, then the active file; a segment present both plain and gzipped counts once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';

const STREAM = /^(.*?)(?:\.(\d{6,}))?\.ndjson(\.gz)?$/;

export class InputError extends Error {}

function orderStreams(files: string[]): string[] {
  const keyed = files.map((file) => {
    const match = STREAM.exec(path.basename(file));
    const stem = path.join(path.dirname(file), match?.[1] ?? path.basename(file));
    return {
      file,
      stem,
      seq: match?.[2] === undefined ? Infinity : Number(match[2]),
      gzip: match?.[3] !== undefined,
    };
  });
  keyed.sort((a, b) =>
    a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : a.seq - b.seq || Number(a.gzip) - Number(b.gzip),
  );
  const seen = new Set<string>();
  const out: string[] = [];
  for (const entry of keyed) {
    const id = `${entry.stem}\u0000${entry.seq}`;
    if (entry.seq !== Infinity && seen.has(id)) continue;
    seen.add(id);
    out.push(entry.file);
  }
  return out;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return walk(full);
    return /\.ndjson(\.gz)?$/.test(entry.name) ? [full] : [];
  });
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

export function resolveInputs(inputs: readonly string[]): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    if (/[*?]/.test(path.basename(input))) {
      const dir = path.dirname(input);
      const pattern = globToRegExp(path.basename(input));
      let names: string[];
      try {
        names = fs.readdirSync(dir);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') throw new InputError(`no such directory for the pattern ${input}`);
        throw error;
      }
      const matched = names.filter((name) => pattern.test(name)).map((name) => path.join(dir, name));
      if (matched.length === 0) throw new InputError(`no file matches ${input}`);
      files.push(...matched);
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(input);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') throw new InputError(`no such file or directory: ${input}`);
      throw error;
    }
    if (stat.isDirectory()) {
      const found = walk(input);
      if (found.length === 0) throw new InputError(`no *.ndjson or *.ndjson.gz file in ${input}`);
      files.push(...orderStreams(found));
    } else {
      files.push(input);
    }
  }
  return files;
}

export { orderStreams };
