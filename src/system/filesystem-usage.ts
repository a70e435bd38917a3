/** Usage of the filesystem holding a directory (the output dir), through statfs(2). */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';

export interface FilesystemUsage {
  usedBytes: number;
  totalBytes: number;
  /** used / (used + available to unprivileged users), as df(1) and psutil compute it. */
  percent: number;
}

/** The output dir may not exist yet: measure the nearest ancestor that does. */
export function existingAncestor(dir: string): string {
  let current = path.resolve(dir);
  for (;;) {
    if (fs.existsSync(current)) return current;
    const parent = path.dirname(current);
    if (parent === current) return current;
    current = parent;
  }
}

export function filesystemUsage(dir: string): FilesystemUsage | undefined {
  let stats: fs.StatsFs;
  try {
    stats = fs.statfsSync(existingAncestor(dir));
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOSYS') return undefined;
    throw error;
  }
  const totalBytes = stats.blocks * stats.bsize;
  const usedBytes = (stats.blocks - stats.bfree) * stats.bsize;
  const usable = usedBytes + stats.bavail * stats.bsize;
  if (totalBytes <= 0 || usable <= 0) return undefined;
  return { usedBytes, totalBytes, percent: (usedBytes / usable) * 100 };
}
