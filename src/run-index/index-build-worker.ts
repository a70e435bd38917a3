/**
 * One worker thread that builds run indexes, one stream file after another, kept while there are
 * more to build (up to BUILDS_PER_WORKER). A worker started for each stream loaded and compiled the
 * builder again every time, which was most of a build of a 27 MB stream: 20 such builds took 363
 * to 475 ms each with a worker per build, 121 to 238 ms each in one worker (bench/RESULTS.md). The
 * worker does not keep the process alive: a dashboard told to stop exits at once.
 */
import { Worker } from 'node:worker_threads';
import { workersAvailable } from '../ndjson/worker-pool.js';

const WORKER_URL = new URL('./index-worker.js', import.meta.url);

/**
 * Builds one worker runs before it is ended and another started (the bound). Each build leaves a
 * few MB of dead buffers (its read chunk, the index's bytes) that the worker's heap collects only
 * past tens of MB: one worker building 60 streams of 27 MB held up to 53 MB of them, and a first
 * open of 100 runs peaked at 349 MB with one worker for all its builds. Ending it every few builds
 * gives all of them back and still saves most of a worker's start per build.
 */
export const BUILDS_PER_WORKER = 4;

type Answer = { index: number; result: unknown } | { index: number; error: string; code?: string };

interface Pending {
  /** The worker the build was posted to: an ended worker's late exit is not this build's. */
  worker: Worker;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class IndexBuildWorker {
  /**
   * Worker threads started so far: one per stretch of builds, another every BUILDS_PER_WORKER
   * builds, and one after each build that failed.
   */
  started = 0;
  private worker: Worker | undefined;
  private pending: Pending | undefined;
  private tasks = 0;
  /** Builds the current worker finished. */
  private builds = 0;

  /** Whether the compiled worker is there (not under a test runner that loads TypeScript). */
  static available(): boolean {
    return workersAvailable(WORKER_URL);
  }

  /** Brings the index of stream file `path` up to date; rejects when that fails. One at a time. */
  build(path: string): Promise<void> {
    if (this.pending !== undefined)
      return Promise.reject(new Error('an index build is already running in this worker: wait for it'));
    let worker: Worker;
    try {
      worker = this.worker ??= this.start();
    } catch (error) {
      // A worker that cannot start (node started with a V8 flag a worker refuses) fails this
      // build as a build that ran would: the caller reports it.
      return Promise.reject(error as Error);
    }
    return new Promise<void>((resolve, reject) => {
      this.pending = { worker, resolve, reject };
      worker.postMessage({ index: this.tasks++, path });
    });
  }

  /** Ends the worker when nothing is left to build; a later build starts another. */
  close(): void {
    const worker = this.worker;
    this.worker = undefined;
    // Between builds: nothing in it is wanted, nor a failure to stop it.
    worker?.terminate().then(
      () => undefined,
      () => undefined,
    );
  }

  private settle(worker: Worker, error: Error | undefined): void {
    const pending = this.pending;
    if (pending?.worker !== worker) return;
    this.pending = undefined;
    if (error === undefined) pending.resolve();
    else pending.reject(error);
    // A worker that failed is not trusted with the next build; one that did its share is ended.
    if (this.worker === worker && (error !== undefined || ++this.builds >= BUILDS_PER_WORKER)) this.close();
  }

  private start(): Worker {
    this.started++;
    this.builds = 0;
    // Workers inherit node's flags; --input-type (a `node -e` caller) is refused for a file worker.
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
    const worker = new Worker(WORKER_URL, { execArgv });
    worker.on('message', (answer: Answer) =>
      this.settle(
        worker,
        'error' in answer ? Object.assign(new Error(answer.error), { code: answer.code }) : undefined,
      ),
    );
    worker.on('error', (error: Error) => this.settle(worker, error));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.settle(worker, new Error(`the index worker exited (${code})`));
    });
    // After the listeners: adding a 'message' listener refs the worker again.
    worker.unref();
    return worker;
  }
}
