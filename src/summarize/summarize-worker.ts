/** Worker thread: reads the tasks it is sent and posts each task's summary back. */
import { parentPort, workerData } from 'node:worker_threads';
import { errnoCode } from '../errors.js';
import { readTask, type ReadTask } from './read-files.js';

const { progress } = workerData as { progress: Int32Array };
const port = parentPort;
if (port === null) throw new Error('summarize-worker.js must run as a worker thread');

port.on('message', (task: ReadTask) => {
  readTask(task, (bytes) => Atomics.store(progress, task.slot, Math.floor(bytes / 1024))).then(
    (summary) => port.postMessage({ index: task.index, summary }),
    (error: unknown) =>
      port.postMessage({
        index: task.index,
        error: error instanceof Error ? error.message : String(error),
        code: errnoCode(error),
      }),
  );
});
