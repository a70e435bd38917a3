/** Worker thread: reads the backlog ranges it is sent (see stream-reader.ts) and posts their series back. */
import { serveTasks } from '../ndjson/worker-pool.js';
import { readBacklogRange } from './backlog-range.js';

serveTasks(readBacklogRange);
