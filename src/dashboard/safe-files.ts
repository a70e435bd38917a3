/**
 * Raw stream files under `/files/<path>`, for download. Only NDJSON files that lie, after every
 * symlink is resolved, inside one of the folders the dashboard was given are served: `..` (plain
 * or percent-encoded), absolute paths, NUL bytes and symlinks that lead out are refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';

const NDJSON_FILE = /\.ndjson(\.gz)?$/;

export type FileAnswer = { ok: true; path: string } | { ok: false; status: 400 | 403 | 404; reason: string };

/** The folders a set of inputs allows: each input folder, a file's folder, a glob's fixed prefix. */
export function allowedRoots(inputs: readonly string[]): string[] {
  const roots: string[] = [];
  for (const input of inputs) {
    const fixed = input.split(/[\\/]/).findIndex((s) => /[*?[]/.test(s));
    const base = fixed === -1 ? input : input.split(/[\\/]/).slice(0, fixed).join('/') || '.';
    let real: string;
    try {
      real = fs.realpathSync(base);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue;
      throw error;
    }
    roots.push(fs.statSync(real).isDirectory() ? real : path.dirname(real));
  }
  return roots;
}

/** Resolves the part of the URL after `/files/` (still percent-encoded) against the cwd. */
export function resolveFile(encoded: string, roots: readonly string[], cwd = process.cwd()): FileAnswer {
  let relative: string;
  try {
    relative = decodeURIComponent(encoded);
  } catch (error) {
    if (error instanceof URIError) return { ok: false, status: 400, reason: 'bad percent-encoding' };
    throw error;
  }
  if (relative.includes('\0') || relative.split(/[\\/]/).includes('..') || path.isAbsolute(relative)) {
    return { ok: false, status: 400, reason: 'the path leaves the served folders' };
  }
  if (!NDJSON_FILE.test(relative))
    return { ok: false, status: 404, reason: 'only NDJSON streams are served' };
  let real: string;
  try {
    real = fs.realpathSync(path.resolve(cwd, relative));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR')
      return { ok: false, status: 404, reason: 'no such stream' };
    throw error;
  }
  const inside = roots.some((root) => real === root || real.startsWith(root + path.sep));
  if (!inside) return { ok: false, status: 403, reason: 'the path resolves outside the served folders' };
  return { ok: true, path: real };
}
