/**
 * The dashboard builds the run indexes of streams first read without one one at a time
 * (src/dashboard/index-build-queue.ts): real streams, real index builds in worker threads. Workers
 * run the compiled builder (dist/, built by the test global setup), as in parallel-backlog.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type * as Queue from '../../src/dashboard/index-build-queue.js';
import { besidePath } from '../../src/run-index/index-path.js';
import { decodeIndex } from '../../src/run-index/index-codec.js';
import { scalarLine } from '../helpers/dashboard-runs.js';

const DIST = fileURLToPath(new URL('../../dist/src/dashboard/index-build-queue.js', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'index-build-queue-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function writeStream(file: string, steps: number): void {
  let text = '';
  for (let step = 0; step < steps; step++) text += scalarLine(step, 'loss', Math.sin(step));
  fs.writeFileSync(file, text);
}

const whole = (stream: string): boolean =>
  fs.existsSync(besidePath(stream)) &&
  decodeIndex(fs.readFileSync(besidePath(stream))).blocks.at(-1)?.end === fs.statSync(stream).size;

describe('the index build queue', () => {
  it('runs one build at a time, in the order asked, until every stream is indexed', async () => {
    const { IndexBuildQueue, INDEX_BUILDS_AT_ONCE } = (await import(
      pathToFileURL(DIST).href
    )) as typeof Queue;
    const streams = [0, 1, 2, 3].map((i) => path.join(dir, `metrics-${i}.ndjson`));
    for (const stream of streams) writeStream(stream, 20_000);
    const queue = new IndexBuildQueue();
    const errors: string[] = [];
    for (const stream of streams) queue.add([stream], (message) => errors.push(message));
    expect(queue.counters()).toEqual({ queued: streams.length - 1, running: 1, done: 0 });
    let mostRunning = 0;
    const deadline = Date.now() + 60_000;
    while (queue.counters().done < streams.length && Date.now() < deadline) {
      const { running, done } = queue.counters();
      mostRunning = Math.max(mostRunning, running);
      // In the order asked: the streams built so far are the first `done`.
      streams.forEach((stream, i) => {
        if (i < done) expect(whole(stream), stream).toBe(true);
      });
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(errors).toEqual([]);
    expect(mostRunning).toBe(INDEX_BUILDS_AT_ONCE);
    expect(queue.counters()).toEqual({ queued: 0, running: 0, done: streams.length });
    for (const stream of streams) expect(whole(stream), stream).toBe(true);
  });
});
