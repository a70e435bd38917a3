/**
 * Input arguments to files: a file as it is, a directory as every *.ndjson / *.ndjson.gz below it
 * (sorted, so rotated segments come before the active file), a glob by `*`, `?` and `[…]` matched
 * against directory listings one path segment at a time (Node 20 has no fs.glob).
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../../errors.js';
import { UsageError } from './parse-args.js';

const NDJSON_FILE = /\.ndjson(\.gz)?$/;
const GLOB_CHARS = /[*?[]/;

function globToRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 1);
      if (close === -1) source += '\\[';
      else {
        source += `[${segment
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return [];
    throw error;
  }
}

function walk(dir: string, out: string[]): void {
  const entries = listDir(dir).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile() && NDJSON_FILE.test(entry.name)) out.push(full);
  }
}

function expandGlob(pattern: string): string[] {
  const absolute = path.isAbsolute(pattern);
  const segments = pattern.split(/[\\/]+/).filter((s) => s !== '');
  let bases = [absolute ? path.parse(path.resolve(pattern)).root : '.'];
  for (const segment of segments) {
    if (!GLOB_CHARS.test(segment)) {
      bases = bases.map((b) => path.join(b, segment));
      continue;
    }
    const re = globToRegExp(segment);
    bases = bases.flatMap((b) =>
      listDir(b)
        .filter((e) => re.test(e.name) && (segment.startsWith('.') || !e.name.startsWith('.')))
        .map((e) => path.join(b, e.name))
        .sort(),
    );
  }
  return bases.filter((p) => fs.existsSync(p));
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
      else found.push(candidate);
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
