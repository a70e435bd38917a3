/**
 * One child process that builds run indexes, one stream file after another, kept while there are
 * more to build (up to BUILDS_PER_WORKER). A process, not a worker thread: a build's memory (at a
 * million names, 280 MB at its peak) is the operating system's again when the process ends,
 * whereas a worker thread's stayed in the dashboard's allocator after the thread ended (140 MB
 * more for as long as the dashboard ran, which the catalog opened next then grew on). A worker
 * started for each stream loaded and compiled the builder again every time, which was most of a
 * build of a 27 MB stream: 20 such builds took 363 to 475 ms each with a worker per build, 121 to
 * 238 ms each in one worker (bench/RESULTS.md). The process does not keep the dashboard alive,
 * and ends when the dashboard does.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { workersAvailable } from '../ndjson/worker-pool.js';

const CHILD_URL = new URL('./index-build-child.js', import.meta.url);

/** Node's flag for the build process's young generation (see start()). */
const BUILD_YOUNG_GENERATION = '--max-semi-space-size=1';

/** What the dashboard sends its build process: a stream file to index. */
export interface BuildTask {
  index: number;
  path: string;
}

/** What the build process answers, with its peak RSS so far (kB, `process.resourceUsage().maxRSS`). */
export type BuildAnswer = { index: number; peakRssKb: number } & (
  { error?: undefined } | { error: string; code?: string }
);

/**
 * Builds one process runs before it is ended and another started (the bound). Each build leaves a
 * few MB of dead buffers (its read chunk, the index's bytes) that the heap collects only past tens
 * of MB: one worker building 60 streams of 27 MB held up to 53 MB of them, and a first open of 100
 * runs peaked at 349 MB with one worker for all its builds. Ending it every few builds gives all
 * of them back and still saves most of a start per build.
 */
export const BUILDS_PER_WORKER = 4;

interface Pending {
  /** The process the build was sent to: an ended process's late exit is not this build's. */
  worker: ChildProcess;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class IndexBuildWorker {
  /**
   * Build processes started so far: one per stretch of builds, another every BUILDS_PER_WORKER
   * builds, and one after each build that failed.
   */
  started = 0;
  /** The highest peak RSS a build process answered with (MB; 0 before any answer). */
  peakRssMb = 0;
  private worker: ChildProcess | undefined;
  private pending: Pending | undefined;
  private tasks = 0;
  /** Builds the current process finished. */
  private builds = 0;

  /** Whether the compiled build process is there (not under a test runner that loads TypeScript). */
  static available(): boolean {
    return workersAvailable(CHILD_URL);
  }

  /** Brings the index of stream file `path` up to date; rejects when that fails. One at a time. */
  build(path: string): Promise<void> {
    if (this.pending !== undefined)
      return Promise.reject(new Error('an index build is already running in this process: wait for it'));
    let worker: ChildProcess;
    try {
      worker = this.worker ??= this.start();
    } catch (error) {
      // A process that cannot start fails this build as a build that ran would: the caller
      // reports it.
      return Promise.reject(error as Error);
    }
    return new Promise<void>((resolve, reject) => {
      this.pending = { worker, resolve, reject };
      const task: BuildTask = { index: this.tasks++, path };
      worker.send(task, (error) => {
        if (error) this.settle(worker, error);
      });
    });
  }

  /** Ends the process when nothing is left to build; a later build starts another. */
  close(): void {
    const worker = this.worker;
    this.worker = undefined;
    // Between builds: nothing in it is wanted. Its channel closing ends it (index-build-child.ts).
    if (worker?.connected === true) worker.disconnect();
  }

  private settle(worker: ChildProcess, error: Error | undefined): void {
    const pending = this.pending;
    if (pending?.worker !== worker) return;
    this.pending = undefined;
    if (error === undefined) pending.resolve();
    else pending.reject(error);
    // A process that failed is not trusted with the next build; one that did its share is ended.
    if (this.worker === worker && (error !== undefined || ++this.builds >= BUILDS_PER_WORKER)) this.close();
  }

  private start(): ChildProcess {
    this.started++;
    this.builds = 0;
    // The child takes node's flags; --input-type (a `node -e` caller) is refused for a file. A young
    // generation of 1 MB: a build's garbage is its lines, short-lived, and the default 16 MB
    // semi-spaces held 40 MB more at its peak (328 against 287 MiB, medians of 5 builds of a
    // million one-row names; no slower: 0.91x the time of 20 scalars x 100,000 steps, 1.03x of the
    // million names).
    const execArgv = [
      ...process.execArgv.filter((arg) => !arg.startsWith('--input-type')),
      BUILD_YOUNG_GENERATION,
    ];
    const worker = fork(fileURLToPath(CHILD_URL), [], {
      execArgv,
      // Its warnings go where the dashboard's do; it has nothing to print.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    // A dashboard that ends (SIGTERM, or its last handle closed) takes its build with it: the
    // closed channel ends the child, and this covers a child still starting.
    const endWithParent = (): void => {
      worker.kill();
    };
    process.once('exit', endWithParent);
    worker.on('message', (answer: BuildAnswer) => {
      this.peakRssMb = Math.max(this.peakRssMb, Math.round(answer.peakRssKb / 1024));
      this.settle(
        worker,
        answer.error === undefined
          ? undefined
          : Object.assign(new Error(answer.error), { code: answer.code }),
      );
    });
    worker.on('error', (error: Error) => this.settle(worker, error));
    worker.on('exit', (code, signal) => {
      process.removeListener('exit', endWithParent);
      if (this.worker === worker) this.worker = undefined;
      this.settle(worker, new Error(`the index build process exited (${code ?? signal})`));
    });
    // After the listeners: adding a 'message' listener refs the channel again unless it was
    // unref'd explicitly, which holds from here on.
    worker.unref();
    worker.channel?.unref();
    return worker;
  }
}
