/** Worker thread: reads the TensorBoard and W&B runs it is sent for the first time (source-first-read.ts). */
import { serveTasks } from '../ndjson/worker-pool.js';
import { readSourceFirst } from './source-first-read.js';

serveTasks(readSourceFirst);
