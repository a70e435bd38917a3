/** Worker thread: brings the index of each stream file it is sent up to date (see build-in-background.ts). */
import { serveTasks } from '../ndjson/worker-pool.js';
import { WORKER_CHUNK_BYTES } from '../ndjson/read-metric-records.js';
import { loadStreamIndex } from './stream-index.js';

serveTasks(async (task: { index: number; path: string }) => {
  // Only the file is wanted: it is written in parts as the stream is read, and neither the
  // records nor the open buckets (a million at a million names) are kept or copied out.
  const loaded = await loadStreamIndex(task.path, { inParts: true, chunkBytes: WORKER_CHUNK_BYTES });
  return { path: loaded.path ?? null, scanned: loaded.scanned };
});
