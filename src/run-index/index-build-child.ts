/**
 * The index build's own process (forked by index-build-worker.ts): brings the index of each stream
 * file it is sent up to date, and answers with the process's peak RSS so far. It ends when its
 * parent does (the IPC channel closes), wherever its build is: a torn last block is ignored and
 * rebuilt by the next reader (docs/run-index.md).
 */
import { errnoCode, errorText } from '../errors.js';
import { WORKER_CHUNK_BYTES } from '../ndjson/read-metric-records.js';
import type { BuildAnswer, BuildTask } from './index-build-worker.js';
import { loadStreamIndex } from './stream-index.js';

if (process.send === undefined)
  throw new Error('this module runs as the index build process (index-build-worker.ts)');

process.on('disconnect', () => process.exit(0));
process.on('message', (task: BuildTask) => {
  // Only the file is wanted: it is written in parts as the stream is read, and neither the
  // records nor the open buckets (a million at a million names) are kept or copied out.
  loadStreamIndex(task.path, { inParts: true, chunkBytes: WORKER_CHUNK_BYTES }).then(
    () => answer({ index: task.index, peakRssKb: process.resourceUsage().maxRSS }),
    (error: unknown) =>
      answer({
        index: task.index,
        peakRssKb: process.resourceUsage().maxRSS,
        error: errorText(error),
        code: errnoCode(error),
      }),
  );
});

function answer(message: BuildAnswer): void {
  // The parent may be gone by now: nothing is left to tell.
  if (process.connected) process.send?.(message);
}
