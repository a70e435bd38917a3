/**
 * A small pool of worker threads for reading NDJSON in parallel: each worker takes the next task
 * when it is done with one, results come back in task order, and the first failure rejects.
 * Workers run compiled JavaScript only, so callers check `workersAvailable` and read in their own
 * thread otherwise (TypeScript sources under the test runner).
 */
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parentPort, Worker } from 'node:worker_threads';
import { errnoCode, errorText } from '../errors.js';

export interface PoolTask {
  index: number;
}

type Answer<R> = { index: number; result: R } | { index: number; error: string; code?: string };

/** Whether `url` names a compiled worker that exists (a build in dist/, not a .ts source). */
export function workersAvailable(url: URL): boolean {
  return url.protocol === 'file:' && url.pathname.endsWith('.js') && fs.existsSync(fileURLToPath(url));
}

/** Worker threads to use by default: the cores there are, at most 8. */
export function defaultJobs(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 8));
}

/**
 * Runs `tasks` on up to `jobs` workers started from `url`; resolves with the results by index.
 * `background`: the workers do not keep the process alive (work that may be cut off, such as an
 * index built beside a dashboard that is told to stop). `signal`: when it aborts, the workers are
 * terminated where they are and the pool rejects with its reason.
 */
export async function runPool<T extends PoolTask, R>(
  url: URL,
  tasks: readonly T[],
  jobs: number,
  workerData?: unknown,
  background = false,
  signal?: AbortSignal,
): Promise<R[]> {
  signal?.throwIfAborted();
  const results = new Array<R>(tasks.length);
  const queue = [...tasks];
  await Promise.all(
    Array.from({ length: Math.min(jobs, tasks.length) }, () =>
      runWorker(url, queue, results, workerData, background, signal),
    ),
  );
  return results;
}

function runWorker<T extends PoolTask, R>(
  url: URL,
  queue: T[],
  results: R[],
  workerData: unknown,
  background: boolean,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise((settledResolve, settledReject) => {
    // Workers inherit node's flags; --input-type (a `node -e` caller) is refused for a file worker.
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
    const worker = new Worker(url, { workerData, execArgv });
    const abort = (): void => {
      // The caller stopped waiting: the task's result is not wanted, nor a failure to stop it.
      worker.terminate().then(
        () => undefined,
        () => undefined,
      );
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', abort, { once: true });
    const resolve = (): void => {
      signal?.removeEventListener('abort', abort);
      settledResolve();
    };
    const reject = (error: unknown): void => {
      signal?.removeEventListener('abort', abort);
      settledReject(error);
    };
    const next = (): void => {
      const task = queue.shift();
      if (task === undefined) {
        void worker.terminate().then(() => resolve(), reject);
        return;
      }
      worker.postMessage(task);
    };
    worker.on('message', (message: Answer<R>) => {
      if ('error' in message) {
        const error = Object.assign(new Error(message.error), { code: message.code });
        // The task already failed; a failure to stop the worker adds nothing to report.
        worker.terminate().then(
          () => undefined,
          () => undefined,
        );
        reject(error);
        return;
      }
      results[message.index] = message.result;
      next();
    });
    worker.on('error', reject);
    next();
    // After the listeners: adding a 'message' listener refs the worker again.
    if (background) worker.unref();
  });
}

/** In a worker thread: answers every task posted to it with `handle(task)`. */
export function serveTasks<T extends PoolTask, R>(handle: (task: T) => Promise<R>): void {
  const port = parentPort;
  if (port === null) throw new Error('this module must run as a worker thread (see runPool)');
  port.on('message', (task: T) => {
    handle(task).then(
      (result) => port.postMessage({ index: task.index, result } satisfies Answer<R>),
      (error: unknown) =>
        port.postMessage({
          index: task.index,
          error: errorText(error),
          code: errnoCode(error),
        } satisfies Answer<R>),
    );
  });
}
