/**
 * Digests of the dependency lock files in the project root, keyed by file name, so a manifest says
 * which lock it pinned: uv's (the runbook's `uv.lock` / `uv.lock.json`) and Node's.
 */
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { sha256File } from './file-digest.js';

export const LOCK_FILES = [
  'uv.lock',
  'uv.lock.json',
  'package-lock.json',
  'pnpm-lock.yaml',
  'yarn.lock',
] as const;

/** `{ "uv.lock": "<sha256 hex>" }` for every lock file present; absent files are left out. */
export async function lockDigests(projectRoot: string): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const name of LOCK_FILES) {
    try {
      digests[name] = await sha256File(path.join(projectRoot, name));
    } catch (error) {
      // A missing lock is the normal case (a project has one or two of these), not a failure.
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'EISDIR') continue;
      throw error;
    }
  }
  return digests;
}
