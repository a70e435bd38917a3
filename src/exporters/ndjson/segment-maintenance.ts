/**
 * Work on closed NDJSON segments, off the training thread: gzip (write `.gz.tmp`, rename, then
 * remove the plain file, so a crash leaves either a whole plain segment or a whole `.gz`) and the
 * cap on kept segments (oldest removed first, with a log line).
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { errnoCode } from '../../errors.js';
import { listSegments } from '../../ndjson/segments.js';
import { besidePath } from '../../run-index/index-path.js';
import { CREATE_NEW, refuseSymlinkAt } from '../../files/no-follow.js';

function openNew(file: string): Promise<fs.promises.FileHandle> {
  return fs.promises.open(file, CREATE_NEW, 0o644);
}

export async function gzipSegment(segment: string): Promise<string> {
  const target = `${segment}.gz`;
  const temporary = `${target}.tmp`;
  // A leftover from a crash is ours to replace; a new one is created exclusively, no link followed.
  await fs.promises.rm(temporary, { force: true });
  await pipeline(
    fs.createReadStream(segment),
    zlib.createGzip(),
    fs.createWriteStream(temporary, { fd: await openNew(temporary) }),
  );
  refuseSymlinkAt(target);
  await fs.promises.rename(temporary, target);
  await fs.promises.unlink(segment);
  return target;
}

/** Removes the oldest closed segments beyond `keep` (0 = keep all). Returns the removed paths. */
export async function pruneSegments(
  activePath: string,
  keep: number,
  info: (line: string) => void,
  warn: (message: string) => void,
): Promise<string[]> {
  if (keep <= 0) return [];
  const segments = listSegments(activePath);
  const removed: string[] = [];
  for (const segment of segments.slice(0, Math.max(0, segments.length - keep))) {
    try {
      await fs.promises.unlink(segment.path);
      // Its run index goes with it (see src/run-index).
      await fs.promises.rm(besidePath(segment.path), { force: true });
      removed.push(segment.path);
      info(`codex-telemetry: removed old metrics segment ${segment.path} (keeping the newest ${keep})`);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT')
        warn(`codex-telemetry: cannot remove old metrics segment ${segment.path}: ${String(error)}`);
    }
  }
  return removed;
}
