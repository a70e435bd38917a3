/** Worker thread: summarizes one byte range of a file and posts the serialized result. */
import { parentPort, workerData } from 'node:worker_threads';
import { scanRange } from './scan-range.js';
import { serializeSummary } from './serialize.js';

const { file, start, end, isLastRange } = workerData as {
  file: string;
  start: number;
  end: number;
  isLastRange: boolean;
};
const result = scanRange(file, start, end, isLastRange);
parentPort?.postMessage({ summary: serializeSummary(result.summary), lineCount: result.lineCount });
