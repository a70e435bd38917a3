/**
 * The run indexes a dashboard builds beside the streams it first read without one, one at a time:
 * each build is a worker thread (about 35 MB of RSS while it runs), and a first open of 100 runs
 * asks for 100 of them, each as soon as its stream is read. Built one after the other, in the order
 * the streams were read, at most one such worker is alive, whatever the number of runs.
 */
import { buildInBackground } from '../run-index/build-in-background.js';

/** Builds of run indexes a dashboard runs at once (the bound). */
export const INDEX_BUILDS_AT_ONCE = 1;

/** What `/api/index` shows of the queue (`indexBuilds`). */
export interface IndexBuildCounters {
  /** Streams waiting for their build. */
  queued: number;
  /** Builds running now (at most INDEX_BUILDS_AT_ONCE). */
  running: number;
  /** Builds finished (failed ones reported on stderr) since the start. */
  done: number;
}

export class IndexBuildQueue {
  private readonly waiting: { files: readonly string[]; onError: (message: string) => void }[] = [];
  private running = 0;
  private done = 0;

  /** Queues the build of `files`' indexes; failures go to `onError` (the index is only a cache). */
  add(files: readonly string[], onError: (message: string) => void): void {
    this.waiting.push({ files, onError });
    this.next();
  }

  counters(): IndexBuildCounters {
    return { queued: this.waiting.length, running: this.running, done: this.done };
  }

  private next(): void {
    if (this.running >= INDEX_BUILDS_AT_ONCE) return;
    const build = this.waiting.shift();
    if (build === undefined) return;
    this.running++;
    const finished = (): void => {
      this.running--;
      this.done++;
      this.next();
    };
    // buildInBackground reports its own failures and never rejects.
    buildInBackground(build.files, build.onError).then(finished, finished);
  }
}
