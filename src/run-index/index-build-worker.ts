/**
 * One worker that builds run indexes, one stream file after another, kept while there are more to
 * build (up to BUILDS_PER_WORKER): a worker thread, or a child process (`ownProcess`).
 *
 * A worker started for each stream loaded and compiled the builder again every time, which was
 * most of a build of a 27 MB stream: 20 such builds took 363 to 475 ms each with a worker per
 * build, 121 to 238 ms each in one worker (bench/RESULTS.md). Neither kind keeps the dashboard
 * alive, and both end when it does.
 *
 * A process for a build whose memory is large (the first open of very many names,
 * catalog/index-first.ts): its memory is the system's again when it ends, whereas a worker
 * thread's stayed in the dashboard's allocator after the thread ended. At a million one-row names
 * the server held about 140 MB more for as long as it ran, under the catalog opened next (345 to
 * 362 MB at its peak, against 241 to 252 MB with the build in a process, which peaked at 279 to
 * 281 MB of its own). A thread for the many small builds of a first open of many runs, where a
 * process costs a node runtime more (index-build-queue.ts).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { workersAvailable } from '../ndjson/worker-pool.js';

const WORKER_URL = new URL('./index-worker.js', import.meta.url);
const CHILD_URL = new URL('./index-build-child.js', import.meta.url);

/**
 * Node's flag for the build process's young generation: a build's garbage is its lines,
 * short-lived, and the default 16 MB semi-spaces held 40 MB more at its peak (328 against 287 MiB,
 * medians of 5 builds of a million one-row names; no slower: 0.91x the time of 20 scalars ×
 * 100,000 steps, 1.03x of the million names).
 */
const BUILD_YOUNG_GENERATION = '--max-semi-space-size=1';

/** What the dashboard sends a build worker: a stream file to index. */
export interface BuildTask {
  index: number;
  path: string;
}

/**
 * What a build worker answers: a failure's text and code, and a process's peak RSS so far (kB,
 * `process.resourceUsage().maxRSS`; a thread's would be the dashboard's, so it sends none).
 */
export interface BuildAnswer {
  index: number;
  peakRssKb?: number;
  error?: string;
  code?: string;
}

/**
 * Builds one worker runs before it is ended and another started (the bound). Each build leaves a
 * few MB of dead buffers (its read chunk, the index's bytes) that the heap collects only past tens
 * of MB: one worker building 60 streams of 27 MB held up to 53 MB of them, and a first open of 100
 * runs peaked at 349 MB with one worker for all its builds. Ending it every few builds gives all
 * of them back and still saves most of a worker's start per build.
 */
export const BUILDS_PER_WORKER = 4;

type Runner = Worker | ChildProcess;

interface Pending {
  /** The worker the build was sent to: an ended worker's late exit is not this build's. */
  worker: Runner;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class IndexBuildWorker {
  /**
   * Workers started so far: one per stretch of builds, another every BUILDS_PER_WORKER builds, and
   * one after each build that failed.
   */
  started = 0;
  /** The highest peak RSS a build process answered with (MB; 0 for threads, and before any answer). */
  peakRssMb = 0;
  private worker: Runner | undefined;
  private pending: Pending | undefined;
  private tasks = 0;
  /** Builds the current worker finished. */
  private builds = 0;
  private readonly ownProcess: boolean;

  constructor(options: { ownProcess?: boolean } = {}) {
    this.ownProcess = options.ownProcess ?? false;
  }

  /** Whether the compiled workers are there (not under a test runner that loads TypeScript). */
  static available(): boolean {
    return workersAvailable(WORKER_URL) && workersAvailable(CHILD_URL);
  }

  /** Brings the index of stream file `path` up to date; rejects when that fails. One at a time. */
  build(path: string): Promise<void> {
    if (this.pending !== undefined)
      return Promise.reject(new Error('an index build is already running in this worker: wait for it'));
    let worker: Runner;
    try {
      worker = this.worker ??= this.start();
    } catch (error) {
      // A worker that cannot start (node started with a V8 flag a worker thread refuses) fails
      // this build as a build that ran would: the caller reports it.
      return Promise.reject(error as Error);
    }
    return new Promise<void>((resolve, reject) => {
      this.pending = { worker, resolve, reject };
      const task: BuildTask = { index: this.tasks++, path };
      if (worker instanceof Worker) worker.postMessage(task);
      else
        worker.send(task, (error) => {
          if (error) this.settle(worker, error);
        });
    });
  }

  /** Ends the worker when nothing is left to build; a later build starts another. */
  close(): void {
    const worker = this.worker;
    this.worker = undefined;
    // Between builds: nothing in it is wanted, nor a failure to stop it.
    if (worker instanceof Worker)
      worker.terminate().then(
        () => undefined,
        () => undefined,
      );
    // A process ends when its channel closes (index-build-child.ts).
    else if (worker?.connected === true) worker.disconnect();
  }

  private settle(worker: Runner, error: Error | undefined): void {
    const pending = this.pending;
    if (pending?.worker !== worker) return;
    this.pending = undefined;
    if (error === undefined) pending.resolve();
    else pending.reject(error);
    // A worker that failed is not trusted with the next build; one that did its share is ended.
    if (this.worker === worker && (error !== undefined || ++this.builds >= BUILDS_PER_WORKER)) this.close();
  }

  private start(): Runner {
    this.started++;
    this.builds = 0;
    // Workers take node's flags; --input-type (a `node -e` caller) is refused for a file.
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
    const worker = this.ownProcess
      ? fork(fileURLToPath(CHILD_URL), [], {
          execArgv: [...execArgv, BUILD_YOUNG_GENERATION],
          // Its warnings go where the dashboard's do; it has nothing to print.
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        })
      : new Worker(WORKER_URL, { execArgv });
    worker.on('message', (answer: BuildAnswer) => {
      if (answer.peakRssKb !== undefined)
        this.peakRssMb = Math.max(this.peakRssMb, Math.round(answer.peakRssKb / 1024));
      const error =
        answer.error === undefined
          ? undefined
          : Object.assign(new Error(answer.error), { code: answer.code });
      this.settle(worker, error);
    });
    worker.on('error', (error: Error) => this.settle(worker, error));
    worker.on('exit', (code: number | null, signal?: NodeJS.Signals | null) => {
      if (this.worker === worker) this.worker = undefined;
      const kind = worker instanceof Worker ? 'worker' : 'build process';
      this.settle(worker, new Error(`the index ${kind} exited (${code ?? signal})`));
    });
    // After the listeners: adding a 'message' listener refs the worker again (a process's channel
    // too, unless it was unref'd explicitly, which holds from here on).
    worker.unref();
    if (!(worker instanceof Worker)) {
      worker.channel?.unref();
      // A dashboard that ends (SIGTERM, or its last handle closed) takes its build process with
      // it: the closed channel ends the child, and this covers a child still starting. A thread
      // ends with the process anyway.
      const endWithParent = (): void => {
        worker.kill();
      };
      process.once('exit', endWithParent);
      worker.once('exit', () => process.removeListener('exit', endWithParent));
    }
    return worker;
  }
}
