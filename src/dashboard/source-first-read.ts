/**
 * A TensorBoard or W&B run's first read for the dashboard, done where it is called (a worker
 * thread, source-worker.ts): the run is read (from its index when it has one, which is then kept
 * up to date) into a store of its own, and handed back as plain data: its series as buckets, the
 * problems found, and the reader's resume point, from which the dashboard's thread follows the run.
 */
import { MALFORMED_SAMPLES } from '../run-index/index-builder.js';
import { SeriesStore } from './series-store.js';
import { SourceRunReader, type FirstRead, type FirstReadTask } from './source-run-reader.js';

export async function readSourceFirst(task: FirstReadTask): Promise<FirstRead> {
  const problems: FirstRead['problems'] = [];
  let problemsLeftOut = 0;
  const reader = new SourceRunReader(
    task.spec,
    new SeriesStore(),
    // A damaged run can hold millions of problems: the message back holds the first few, counts the rest.
    (file, line) => {
      if (problems.length < MALFORMED_SAMPLES) problems.push({ file, line });
      else problemsLeftOut++;
    },
    undefined,
    // Told by the dashboard's thread, from the resume point.
    () => undefined,
    { ...task.options, worker: false },
  );
  const read = await reader.poll();
  return {
    parts: reader.visitor.parts(),
    state: reader.run.save(),
    problems,
    problemsLeftOut,
    indexed: reader.indexed,
    bytesRead: reader.bytesRead,
    read,
  };
}
