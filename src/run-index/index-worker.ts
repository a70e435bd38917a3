/** Worker thread: brings the index of each stream file it is sent up to date (see build-in-background.ts). */
import { serveTasks } from '../ndjson/worker-pool.js';
import { WORKER_CHUNK_BYTES } from '../ndjson/read-metric-records.js';
import { loadStreamIndex } from './stream-index.js';

serveTasks(async (task: { index: number; path: string }) => {
  // Only the file is wanted: the open buckets (a million at a million names) are not copied out.
  const loaded = await loadStreamIndex(task.path, { openBuckets: false, chunkBytes: WORKER_CHUNK_BYTES });
  return { path: loaded.path ?? null, scanned: loaded.scanned };
});
