/**
 * Indexes stream files in one worker thread, one file after the other, while the caller goes on:
 * a big stream first read without an index (in the parallel reader) opens from its index the next
 * time. Failures are reported, never thrown: the index is only a cache. The worker does not keep
 * the process alive.
 */
import fs from 'node:fs';
import { errnoCode, errorText } from '../errors.js';
import { IndexBuildWorker } from './index-build-worker.js';

/**
 * Builds the indexes of `files` in `worker` (kept for the caller's next builds), or in a worker of
 * their own that ends with them.
 */
export async function buildInBackground(
  files: readonly string[],
  onError: (message: string) => void,
  worker?: IndexBuildWorker,
): Promise<void> {
  // Only regular files: a FIFO has no index (its bytes are read once), and a worker blocked in
  // opening one, or in any other system call, cannot be ended, so it would hold the exit.
  const regular = files.filter((file) => isRegularFile(file, onError));
  if (regular.length === 0 || !IndexBuildWorker.available()) return;
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
