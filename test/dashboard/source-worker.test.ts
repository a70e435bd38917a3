/**
 * TensorBoard and W&B runs read the first time in a worker thread: the server answers /api while a
 * big run loads, and what the worker read (series, problems, what a W&B run says of itself) is what
 * a read in the dashboard's own thread gives. Workers run the compiled reader (dist/, built by the
 * test global setup): TypeScript sources cannot be loaded into a worker on Node 20.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type * as Server from '../../src/dashboard/server.js';
import type * as Store from '../../src/dashboard/series-store.js';
import type * as Reader from '../../src/dashboard/source-run-reader.js';
import { WandbExporter } from '../../src/exporters/wandb/wandb-exporter.js';
import { encodeScalarsRecord } from '../../src/formats/tensorboard/scalars-record.js';
import { SinkHealth } from '../../src/health.js';
import type { RunSpec } from '../../src/sources/discover-sources.js';
import { writeRun } from '../helpers/dashboard-runs.js';
import { storeSummaries } from '../helpers/store-summaries.js';

const DIST = fileURLToPath(new URL('../../dist/src/dashboard/', import.meta.url));
if (!fs.existsSync(path.join(DIST, 'source-worker.js')) && process.env.CI !== undefined)
  throw new Error(
    `${DIST}source-worker.js is missing: run \`npm run build\` before the tests (npm test does)`,
  );

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-source-worker-'));
const env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') };
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const load = async <T>(file: string): Promise<T> =>
  (await import(pathToFileURL(path.join(DIST, file)).href)) as T;

/** `scalars` scalars, one simple_value Event each, over three tags; a record in the middle has a bad CRC. */
function writeEventFile(run: string, scalars: number): void {
  fs.mkdirSync(run, { recursive: true });
  const tags = ['loss', 'eval/accuracy', 'grad_norm'];
  const parts: Buffer[] = [];
  for (let i = 0; i < scalars; i++) {
    const step = Math.floor(i / 3);
    parts.push(encodeScalarsRecord(1.7e9 + step, step, [tags[i % 3] as string], [Math.sin(i) * 10]));
  }
  const bad = parts[Math.floor(scalars / 2)] as Buffer;
  bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
  fs.writeFileSync(path.join(run, 'events.out.tfevents.1700000000.host'), Buffer.concat(parts));
}

async function writeWandbRun(parent: string, steps: number): Promise<string> {
  const exporter = new WandbExporter({
    dir: parent,
    runId: 'worker01',
    startTime: 1.7e9,
    health: new SinkHealth(() => undefined),
    config: { lr: 0.01 },
  });
  for (let step = 0; step < steps; step++) {
    exporter.write([
      { stream: 'train', phase: 'train', step, ts: 1.7e9 + step, names: ['loss'], values: [1 / (step + 1)] },
    ]);
    if (step % 10 === 0)
      exporter.write([
        {
          stream: 'system',
          phase: 'system',
          step: NaN,
          ts: 1.7e9 + step,
          names: ['cpu_percent'],
          values: [step % 100],
        },
      ]);
  }
  await exporter.close({ exitCode: 3 });
  return exporter.runDir;
}

/** A run read by the dashboard's reader, in a worker thread or not; what it shows and the problems it told. */
async function readWith(spec: RunSpec, worker: boolean): Promise<unknown> {
  const { SeriesStore } = await load<typeof Store>('series-store.js');
  const { SourceRunReader } = await load<typeof Reader>('source-run-reader.js');
  const store = new SeriesStore();
  const problems: string[] = [];
  const reader = new SourceRunReader(
    spec,
    store,
    (file, line) => problems.push(`${path.basename(file)}:${line.field}: ${line.reason}`),
    30_000,
    () => undefined,
    { worker, waitForFirstRead: true, indexMinBytes: Infinity, env },
  );
  expect(await reader.poll()).toBe(true);
  const { name, id, state, exitCode, config, summary } = reader.info;
  return {
    series: storeSummaries(store),
    malformed: store.malformed,
    problems,
    info: { name, id, state, exitCode, config, summary, notShown: [...reader.info.notShown] },
  };
}

describe('TensorBoard and W&B runs read in a worker thread', () => {
  it('hold what a read in the dashboard thread holds: series, problems, and what the run says of itself', async () => {
    const tb = path.join(dir, 'same', 'tb');
    writeEventFile(tb, 30_000);
    const wandb = await writeWandbRun(path.join(dir, 'same', 'wandb'), 3000);
    for (const spec of [
      { kind: 'tfevents' as const, path: tb, name: 'tb' },
      { kind: 'wandb' as const, path: wandb, name: 'w' },
    ]) {
      const here = await readWith(spec, false);
      expect(await readWith(spec, true)).toEqual(here);
    }
    expect(await readWith({ kind: 'tfevents', path: tb, name: 'tb' }, true)).toMatchObject({
      malformed: 1,
      problems: [expect.stringContaining('CRC')],
    });
    expect(await readWith({ kind: 'wandb', path: wandb, name: 'w' }, true)).toMatchObject({
      info: { id: 'worker01', state: 'failed', exitCode: 3, config: { lr: 0.01 } },
    });
  });

  it('answers /api while a big run found after the start loads, then shows the run', async () => {
    const { startDashboard } = await load<typeof Server>('server.js');
    const root = path.join(dir, 'live');
    writeRun(path.join(root, 'small'), 50);
    const dashboard = await startDashboard({ inputs: [root], port: 0 });
    try {
      const index = async (): Promise<{ loading: string[]; charts: unknown[] }> =>
        (await (await fetch(`${dashboard.url}api/index`)).json()) as { loading: string[]; charts: unknown[] };
      const before = JSON.stringify((await index()).charts);
      const big = path.join(root, 'big');
      writeEventFile(big, 400_000);
      let seenLoading = false;
      let answered = 0;
      for (let tries = 0; tries < 600; tries++) {
        const answer = await index();
        answered++;
        if (answer.loading.includes(big)) seenLoading = true;
        else if (seenLoading) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      // Answers came while the run loaded (a read in the server's thread would have let none through).
      expect(seenLoading).toBe(true);
      expect(answered).toBeGreaterThan(1);
      const after = await index();
      expect(after.loading).toEqual([]);
      expect(JSON.stringify(after.charts)).not.toBe(before);
      expect(JSON.stringify(after.charts)).toContain('grad_norm');
    } finally {
      await dashboard.close();
    }
  }, 120_000);
});
