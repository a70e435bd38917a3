/**
 * The dashboard builds the run indexes of streams first read without one one at a time, and none
 * while its first round reads its runs (src/dashboard/index-build-queue.ts): real streams, real
 * index builds and first reads in worker threads. Workers run the compiled code (dist/, built by
 * the test global setup), as in parallel-backlog.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type * as Queue from '../../src/dashboard/index-build-queue.js';
import type * as Live from '../../src/dashboard/live-runs.js';
import { BUILDS_PER_WORKER } from '../../src/run-index/index-build-worker.js';
import { besidePath } from '../../src/run-index/index-path.js';
import { decodeIndex } from '../../src/run-index/index-codec.js';
import { scalarLine } from '../helpers/dashboard-runs.js';

const DIST = fileURLToPath(new URL('../../dist/src/dashboard/index-build-queue.js', import.meta.url));
const LIVE_DIST = fileURLToPath(new URL('../../dist/src/dashboard/live-runs.js', import.meta.url));

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
    expect(queue.counters()).toEqual({
      queued: streams.length - 1,
      running: 1,
      done: 0,
      held: false,
      workersStarted: 1,
    });
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
    expect(queue.counters()).toEqual({
      queued: 0,
      running: 0,
      done: streams.length,
      held: false,
      // The builds asked together run one after the other in a worker, BUILDS_PER_WORKER each.
      workersStarted: Math.ceil(streams.length / BUILDS_PER_WORKER),
    });
    for (const stream of streams) expect(whole(stream), stream).toBe(true);
  });

  it('starts no build while held, then builds every queued stream in the order asked once released', async () => {
    const { IndexBuildQueue } = (await import(pathToFileURL(DIST).href)) as typeof Queue;
    const streams = [0, 1].map((i) => path.join(dir, `metrics-${i}.ndjson`));
    for (const stream of streams) writeStream(stream, 5_000);
    const queue = new IndexBuildQueue();
    const errors: string[] = [];
    queue.hold();
    for (const stream of streams) queue.add([stream], (message) => errors.push(message));
    const held = { queued: 2, running: 0, done: 0, held: true, workersStarted: 0 };
    expect(queue.counters()).toEqual(held);
    // Long enough for a build that was started to have written its index (about 0.2 s each).
    await new Promise((r) => setTimeout(r, 1000));
    expect(queue.counters()).toEqual(held);
    for (const stream of streams) expect(fs.existsSync(besidePath(stream)), stream).toBe(false);
    queue.release();
    expect(queue.counters()).toEqual({ queued: 1, running: 1, done: 0, held: false, workersStarted: 1 });
    const deadline = Date.now() + 60_000;
    while (queue.counters().done < streams.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(errors).toEqual([]);
    for (const stream of streams) expect(whole(stream), stream).toBe(true);
  });

  it("runs no index build while the dashboard's first round reads its runs in worker threads", async () => {
    const { LiveRuns } = (await import(pathToFileURL(LIVE_DIST).href)) as typeof Live;
    const streams = [0, 1, 2].map((i) => path.join(dir, `run-${i}`, '.codex', 'metrics.ndjson'));
    for (const stream of streams) {
      fs.mkdirSync(path.dirname(stream), { recursive: true });
      writeStream(stream, 20_000);
    }
    // Every stream is read by worker threads (parallelMinBytes 1), none from or into an index in
    // the dashboard's thread (indexCatchUpBytes 0): each is then queued for its index build.
    const live = new LiveRuns({
      inputs: [dir],
      backlog: { jobs: 2, parallelMinBytes: 1, indexCatchUpBytes: 0 },
      pollMs: 60_000,
    });
    try {
      let reading = true;
      let mostRunning = 0;
      let heldSeen = false;
      const sampler = setInterval(() => {
        if (!reading) return;
        const { running, held } = live.indexBuilds.counters();
        mostRunning = Math.max(mostRunning, running);
        heldSeen ||= held;
      }, 1);
      await live.start().finally(() => {
        reading = false;
        clearInterval(sampler);
      });
      expect(mostRunning).toBe(0);
      expect(heldSeen).toBe(true);
      const afterRead = live.indexBuilds.counters();
      expect(afterRead.held).toBe(false);
      expect(afterRead.queued + afterRead.running).toBe(streams.length);
      const deadline = Date.now() + 60_000;
      while (live.indexBuilds.counters().done < streams.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      for (const stream of streams) expect(whole(stream), stream).toBe(true);
    } finally {
      live.stop();
    }
  });

  it('ends its worker thread once the queue is empty, and starts another for a stream asked later', async () => {
    const { IndexBuildQueue } = (await import(pathToFileURL(DIST).href)) as typeof Queue;
    const threads = (): number =>
      Number(/Threads:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1]);
    const streams = [0, 1].map((i) => path.join(dir, `metrics-${i}.ndjson`));
    for (const stream of streams) writeStream(stream, 5_000);
    const queue = new IndexBuildQueue();
    const errors: string[] = [];
    const before = threads();
    const buildAll = async (asked: string[]): Promise<void> => {
      const done = queue.counters().done + asked.length;
      for (const stream of asked) queue.add([stream], (message) => errors.push(message));
      const deadline = Date.now() + 60_000;
      while (queue.counters().done < done && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
    };
    await buildAll([streams[0] as string]);
    // The worker thread is gone (its exit is asynchronous).
    const deadline = Date.now() + 10_000;
    while (threads() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(threads()).toBe(before);
    await buildAll([streams[1] as string]);
    expect(errors).toEqual([]);
    expect(queue.counters().workersStarted).toBe(2);
    for (const stream of streams) expect(whole(stream), stream).toBe(true);
  });

  it('ends a worker after BUILDS_PER_WORKER builds and goes on in a new one', async () => {
    const { IndexBuildQueue } = (await import(pathToFileURL(DIST).href)) as typeof Queue;
    const streams = Array.from({ length: BUILDS_PER_WORKER + 1 }, (_, i) =>
      path.join(dir, `metrics-${i}.ndjson`),
    );
    for (const stream of streams) writeStream(stream, 2_000);
    const queue = new IndexBuildQueue();
    const errors: string[] = [];
    const started: number[] = [];
    for (const stream of streams) queue.add([stream], (message) => errors.push(message));
    const deadline = Date.now() + 60_000;
    while (queue.counters().done < streams.length && Date.now() < deadline) {
      started[queue.counters().done] = queue.counters().workersStarted;
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(errors).toEqual([]);
    // The first BUILDS_PER_WORKER builds in the first worker, the one after in a second.
    expect(started.slice(0, BUILDS_PER_WORKER)).toEqual(new Array(BUILDS_PER_WORKER).fill(1));
    expect(queue.counters().workersStarted).toBe(2);
    for (const stream of streams) expect(whole(stream), stream).toBe(true);
  });
});
