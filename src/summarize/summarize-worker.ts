/** Worker thread: reads the tasks it is sent and posts each task's summary back. */
import { workerData } from 'node:worker_threads';
import { serveTasks } from '../ndjson/worker-pool.js';
import { readTask, type ReadTask } from './read-files.js';

const { progress } = workerData as { progress: Int32Array };

serveTasks((task: ReadTask) =>
  readTask(task, (bytes) => Atomics.store(progress, task.slot, Math.floor(bytes / 1024))),
);
