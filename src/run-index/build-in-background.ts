/**
 * Indexes stream files in one build process, one file after the other, while the caller goes on:
 * a big stream first read without an index (in the parallel reader) opens from its index the next
 * time. Failures are reported, never thrown: the index is only a cache. The build process does
 * not keep the caller alive.
 */
import fs from 'node:fs';
import { errnoCode, errorText } from '../errors.js';
import { IndexBuildWorker } from './index-build-worker.js';

/**
 * Builds the indexes of `files` in `worker` (kept for the caller's next builds), or in a process
 * of their own that ends with them. Returns the build process's peak RSS (MB; 0 where none ran).
 */
export async function buildInBackground(
  files: readonly string[],
  onError: (message: string) => void,
  worker?: IndexBuildWorker,
): Promise<number> {
  // Only regular files: a FIFO has no index (its bytes are read once), and a build blocked in
  // opening one would never answer.
  const regular = files.filter((file) => isRegularFile(file, onError));
  if (regular.length === 0 || !IndexBuildWorker.available()) return 0;
  const builder = worker ?? new IndexBuildWorker();
  try {
    // In the background: a dashboard told to stop exits at once, leaving at worst a torn last
    // block, which the next reader ignores and rebuilds (docs/run-index.md).
    for (const file of regular) {
      await builder
        .build(file)
        .catch((error: unknown) =>
          onError(`cannot index ${file} (${errorText(error)}); it is read in full next time`),
        );
    }
  } finally {
    if (worker === undefined) builder.close();
  }
  return builder.peakRssMb;
}

function isRegularFile(file: string, onError: (message: string) => void): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch (error) {
    // Gone since it was listed: nothing to index. Anything else is said, as a failed build is.
    if (errnoCode(error) !== 'ENOENT')
      onError(`cannot index ${file} (${errorText(error)}); it is read in full next time`);
    return false;
  }
}
