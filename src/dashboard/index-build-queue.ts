/**
 * The run indexes a dashboard builds beside the streams it first read without one, one at a time:
 * each build is a worker thread (about 35 MB of RSS while it runs), and a first open of 100 runs
 * asks for 100 of them, each as soon as its stream is read. Built one after the other, in the order
 * the streams were read, at most one such worker is alive, whatever the number of runs.
 *
 * While the dashboard's first round reads its runs, the queue is held (`hold`): the builds wait
 * until that read is done (`release`), so the first read's worker threads and an index build's are
 * never alive together. The first open of 100 runs × 10,000 steps peaked at 321 to 326 MB with the
 * builds running beside the read (bench/first-open-rss.ts; bench/RESULTS.md).
 *
 * The builds queued one after the other run in one worker thread (index-build-worker.ts), ended
 * when the queue is empty: a worker per build spent more time starting than building.
 * Threads, not the build process the first open of very many names uses: builds of this size run
 * as processes held 336 to 537 MB with the server at once (a node process more, and two while one
 * ended and the next started) against 287 MB as threads, and took 40 against 36 s for 100 runs
 * (bench/first-open-rss.ts; bench/RESULTS.md).
 */
import { buildInBackground } from '../run-index/build-in-background.js';
import { IndexBuildWorker } from '../run-index/index-build-worker.js';

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
  /** Whether the builds wait for the dashboard's first read of its runs to end. */
  held: boolean;
  /**
   * Worker threads started for the builds since the start: one per stretch of queued builds, and
   * another every BUILDS_PER_WORKER builds (index-build-worker.ts).
   */
  workersStarted: number;
}

export class IndexBuildQueue {
  private readonly waiting: { files: readonly string[]; onError: (message: string) => void }[] = [];
  private running = 0;
  private done = 0;
  private held = false;
  private readonly worker = new IndexBuildWorker();

  /** Queues the build of `files`' indexes; failures go to `onError` (the index is only a cache). */
  add(files: readonly string[], onError: (message: string) => void): void {
    this.waiting.push({ files, onError });
    this.next();
  }

  /** No build starts until `release` (those running go on). */
  hold(): void {
    this.held = true;
  }

  /** Builds start again, the queued ones first, in the order asked. */
  release(): void {
    this.held = false;
    this.next();
  }

  counters(): IndexBuildCounters {
    return {
      queued: this.waiting.length,
      running: this.running,
      done: this.done,
      held: this.held,
      workersStarted: this.worker.started,
    };
  }

  private next(): void {
    if (this.held || this.running >= INDEX_BUILDS_AT_ONCE) return;
    const build = this.waiting.shift();
    if (build === undefined) {
      // Nothing left to build: the worker's memory goes back until the next stream asks.
      this.worker.close();
      return;
    }
    this.running++;
    const finished = (): void => {
      this.running--;
      this.done++;
      this.next();
    };
    // buildInBackground reports its own failures and never rejects.
    buildInBackground(build.files, build.onError, this.worker).then(finished, finished);
  }
}
