/**
 * Where a stream's index lives: beside the stream (`metrics.ndjson.idx`; a gzip segment
 * `metrics.000001.ndjson.gz` keeps the name its plain file had, `metrics.000001.ndjson.idx`) when
 * that folder is writable, else in the user's cache folder under a name derived from the stream's
 * real path, so a read-only or copied run is indexed once and opens fast afterwards.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errnoCode } from '../errors.js';

export const INDEX_SUFFIX = '.idx';

export function besidePath(stream: string): string {
  return `${stream.endsWith('.gz') ? stream.slice(0, -3) : stream}${INDEX_SUFFIX}`;
}

/** `$XDG_CACHE_HOME/codex-telemetry/index`, or `~/.cache/codex-telemetry/index`. */
export function cacheFolder(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== ''
      ? env.XDG_CACHE_HOME
      : path.join(os.homedir(), '.cache');
  return path.join(base, 'codex-telemetry', 'index');
}

export function cachePath(stream: string, env: NodeJS.ProcessEnv = process.env): string {
  let real: string;
  try {
    real = fs.realpathSync(besidePath(stream).slice(0, -INDEX_SUFFIX.length));
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
    real = path.resolve(besidePath(stream).slice(0, -INDEX_SUFFIX.length));
  }
  const key = createHash('sha256').update(real).digest('hex').slice(0, 32);
  return path.join(cacheFolder(env), `${path.basename(real)}.${key}${INDEX_SUFFIX}`);
}

/** Whether a new file can be made in `dir` (a read-only mount, another user's folder: no). */
export function writableFolder(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM' || code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Existing index paths for a stream, beside first. The cache path (a real path, walked a folder at
 * a time, and a hash) is worked out only when the one beside does not do: a dashboard opening 100
 * runs looked for each index in both places, 22 ms of its start.
 */
export function* indexCandidates(stream: string, env: NodeJS.ProcessEnv = process.env): Generator<string> {
  yield besidePath(stream);
  yield cachePath(stream, env);
}

/** Where a new index for the stream goes. */
export function newIndexPath(stream: string, env: NodeJS.ProcessEnv = process.env): string {
  const beside = besidePath(stream);
  return writableFolder(path.dirname(beside)) ? beside : cachePath(stream, env);
}
