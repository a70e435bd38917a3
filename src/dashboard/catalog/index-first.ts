/**
 * Builds the run index of a stream before its first read (names-at-start.ts): in a process of its
 * own, so that the page is served meanwhile and the build's memory is not left in the dashboard
 * (index-build-worker.ts); in this thread where no build process can start (the sources run
 * untranspiled, as under the tests). Failures are reported, never thrown: without an index the
 * stream is read as before.
 */
import { errorText } from '../../errors.js';
import { buildInBackground } from '../../run-index/build-in-background.js';
import { IndexBuildWorker } from '../../run-index/index-build-worker.js';
import { loadStreamIndex } from '../../run-index/stream-index.js';

/** Returns the build process's peak RSS (MB; 0 where the build ran in this thread). */
export async function buildIndexFirst(file: string, onError: (message: string) => void): Promise<number> {
  if (IndexBuildWorker.available()) {
    const builder = new IndexBuildWorker({ ownProcess: true });
    try {
      await buildInBackground([file], onError, builder);
    } finally {
      builder.close();
    }
    return builder.peakRssMb;
  }
  try {
    await loadStreamIndex(file, { inParts: true, onWarning: onError });
  } catch (error) {
    onError(`cannot index ${file} (${errorText(error)}); it is read in full instead`);
  }
  return 0;
}
