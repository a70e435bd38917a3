/**
 * Indexes stream files in one worker thread, one file after the other, while the caller goes on:
 * a big stream first read without an index (in the parallel reader) opens from its index the next
 * time. Failures are reported, never thrown: the index is only a cache. The worker does not keep
 * the process alive.
 */
import { errorText } from '../errors.js';
import { runPool, workersAvailable } from '../ndjson/worker-pool.js';

const WORKER_URL = new URL('./index-worker.js', import.meta.url);

export function buildInBackground(
  files: readonly string[],
  onError: (message: string) => void,
): Promise<void> {
  if (files.length === 0 || !workersAvailable(WORKER_URL)) return Promise.resolve();
  const tasks = files.map((path, index) => ({ index, path }));
  // In the background: a dashboard told to stop exits at once, leaving at worst a torn last
  // block, which the next reader ignores and rebuilds (docs/run-index.md).
  return runPool(WORKER_URL, tasks, 1, undefined, true).then(
    () => undefined,
    (error: unknown) =>
      onError(`cannot index ${files.join(', ')} (${errorText(error)}); it is read in full next time`),
  );
}
