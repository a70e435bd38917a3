/**
 * Globs by `*`, `?` and `[…]`, matched against directory listings one path segment at a time (Node
 * 20 has no fs.glob), for inputs the shell did not expand (a quoted pattern, or no shell at all).
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';

export const GLOB_CHARS = /[*?[]/;

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

export function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return [];
    throw error;
  }
}

/** Paths matching `pattern`, sorted per segment; hidden names only when the pattern starts with a dot. */
export function expandGlob(pattern: string): string[] {
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
