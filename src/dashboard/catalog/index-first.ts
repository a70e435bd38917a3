/**
 * Builds the run index of a stream before its first read (names-at-start.ts): in a worker thread,
 * as the background build does, so that the page is served meanwhile; in this thread where no
 * worker can start (the sources run untranspiled, as under the tests). Failures are reported,
 * never thrown: without an index the stream is read as before.
 */
import { errorText } from '../../errors.js';
import { workersAvailable } from '../../ndjson/worker-pool.js';
import { buildInBackground } from '../../run-index/build-in-background.js';
import { loadStreamIndex } from '../../run-index/stream-index.js';

/** build-in-background.ts's worker. */
const INDEX_WORKER_URL = new URL('../../run-index/index-worker.js', import.meta.url);

export async function buildIndexFirst(file: string, onError: (message: string) => void): Promise<void> {
  if (workersAvailable(INDEX_WORKER_URL)) return buildInBackground([file], onError);
  try {
    await loadStreamIndex(file, { inParts: true, onWarning: onError });
  } catch (error) {
    onError(`cannot index ${file} (${errorText(error)}); it is read in full instead`);
  }
}
