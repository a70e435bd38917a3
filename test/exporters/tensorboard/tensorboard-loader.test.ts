/**
 * The event files our exporter writes, loaded by TensorBoard itself (its Python loader, with the
 * legacy-to-tensor migration it applies before charting), must chart exactly what was logged.
 *
 * Needs a Python with the `tensorboard` package: CODEX_TENSORBOARD_PYTHON, else `python3`. This
 * machine kind has its wheels on disk (7 s; without --no-index pip first retries PyPI for 90 s):
 *   python3 -m venv /tmp/tb-venv
 *   /tmp/tb-venv/bin/pip install --no-index --find-links /opt/pypi/files tensorboard==2.21.0 tensorboardx==2.6.5
 *   export CODEX_TENSORBOARD_PYTHON=/tmp/tb-venv/bin/python
 * Without it the test fails in CI (CI is set) and is skipped with a warning elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { spawnAsync } from '../../helpers/spawn-async.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TensorBoardExporter } from '../../../src/exporters/tensorboard/tensorboard-exporter.js';
import type { ScalarForm } from '../../../src/formats/tensorboard/scalars-record.js';
import type { StepRow } from '../../../src/step.js';
import { StepTimeAccumulator } from '../../../src/pipeline/step-time-accumulator.js';
import { SinkHealth } from '../../../src/health.js';
import { dataServerMissing, startTensorBoard } from '../../helpers/tensorboard-server.js';

const PYTHON = process.env.CODEX_TENSORBOARD_PYTHON ?? 'python3';
const LOADER = fileURLToPath(new URL('../../fixtures/tensorboard/load_with_tensorboard.py', import.meta.url));

function tensorboardImportable(): boolean {
  const probe = spawnSync(PYTHON, ['-c', 'import tensorboard'], { encoding: 'utf8' });
  return probe.status === 0;
}
const available = tensorboardImportable();
if (!available && process.env.CI) {
  throw new Error(
    `tensorboard-loader.test.ts: ${PYTHON} cannot import tensorboard. CI must install it ` +
      '(python3 -m venv /tmp/tb-venv && /tmp/tb-venv/bin/pip install --no-index --find-links ' +
      '/opt/pypi/files tensorboard==2.21.0 tensorboardx==2.6.5) and set ' +
      'CODEX_TENSORBOARD_PYTHON=/tmp/tb-venv/bin/python',
  );
}
if (!available) console.warn(`skipping TensorBoard loader test: ${PYTHON} cannot import tensorboard`);
const noDataServer = available ? dataServerMissing() : `${PYTHON} cannot import tensorboard`;
if (noDataServer !== undefined && process.env.CI) {
  throw new Error(`tensorboard-loader.test.ts: tensorboard --load_fast=true cannot run: ${noDataServer}`);
}

type Charted = Record<string, Record<string, Array<[string, unknown, number]>>>;

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-tb-loader-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const f32hex = (value: number): string => {
  const bytes = Buffer.alloc(4);
  bytes.writeFloatLE(value);
  return bytes.toString('hex');
};

/** What the test logs: awkward values, unicode tags, int64 steps, all three phases. */
function loggedRows(): StepRow[] {
  const specials = [NaN, Infinity, -Infinity, -0, 1e39, 1e-45, 3.4028234663852886e38, 1.0000001];
  const rows: StepRow[] = [];
  for (let step = 0; step < 1500; step++) {
    rows.push({
      phase: 'train',
      step,
      ts: 1_700_000_000 + step * 0.25,
      names: ['loss', 'train/lr', 'métrique/α_損失 🚀'],
      values: [1 / (step + 1), specials[step % specials.length] as number, -step * 1e-3],
    });
    if (step % 100 === 99) {
      rows.push({
        phase: 'eval',
        step,
        ts: 1_700_000_000 + step * 0.25 + 0.1,
        names: ['loss', 'acc'],
        values: [2 / step, step / 1500],
      });
    }
    if (step % 10 === 0) {
      rows.push({
        phase: 'system',
        step,
        ts: 1_700_000_000 + step * 0.25 + 0.2,
        names: ['cpu_percent'],
        values: [12.5 + (step % 7)],
      });
    }
  }
  for (const step of [2n ** 31n, 2n ** 53n + 1n, 2n ** 63n - 1n]) {
    rows.push({ phase: 'train', step, ts: 1_700_001_000, names: ['loss'], values: [0.125] });
  }
  return rows;
}

async function writeAndLoad(form: ScalarForm, rows: StepRow[]): Promise<Charted> {
  const logdir = await writeRunAsync(form, rows, 'python');
  const loaded = await spawnAsync(PYTHON, [LOADER, path.join(logdir, 'exp')]);
  expect(loaded.status, loaded.stderr).toBe(0);
  return JSON.parse(loaded.stdout) as Charted;
}

/** Writes the rows (and a step-duration histogram) through the exporter into `<root>/<form>-<name>/exp`. */
async function writeRunAsync(form: ScalarForm, rows: StepRow[], name: string): Promise<string> {
  const logdir = path.join(root, `${form}-${name}`);
  const exporter = new TensorBoardExporter({
    logdir,
    runName: 'exp',
    health: new SinkHealth(() => undefined),
    scalarForm: form,
    config: { lr: 3e-4, model: 'tiny' },
  });
  const stepTimes = new StepTimeAccumulator([0.1, 0.2, 0.4, 0.8]);
  const lastTrain = rows.filter((row) => row.phase === 'train').at(-1) as StepRow;
  for (const seconds of [0.15, 0.15, 0.3, 0.35, 0.5]) stepTimes.record(seconds, lastTrain.step, lastTrain.ts);
  exporter.write(rows.map((row) => ({ ...row, stream: row.phase })));
  exporter.writeStepTimes(stepTimes.take()!);
  await exporter.close();
  return logdir;
}

/** The charts we expect, computed from the rows: per run and tag, [step, float32 hex, wall time]. */
function expectedScalars(rows: StepRow[]): Charted {
  const charts: Charted = {};
  for (const row of rows) {
    const run = (charts[row.phase] ??= {});
    row.names.forEach((name, i) => {
      (run[`scalars:${name}`] ??= []).push([String(row.step), f32hex(row.values[i] as number), row.ts]);
    });
  }
  return charts;
}

describe.skipIf(!available)("TensorBoard's own loader", () => {
  const rows = loggedRows();
  const expected = expectedScalars(rows);

  for (const form of ['simple_value', 'tensor'] as const) {
    it(`charts every logged point of train, eval and system exactly when scalars are written as ${form}`, async () => {
      const charted = await writeAndLoad(form, rows);
      expect(Object.keys(charted).sort()).toEqual(['eval', 'system', 'train']);
      for (const run of ['train', 'eval', 'system']) {
        const scalars = Object.fromEntries(
          Object.entries(charted[run] ?? {}).filter(([key]) => key.startsWith('scalars:')),
        );
        expect(scalars, run).toEqual(expected[run]);
      }
      const histograms = charted.train?.['histograms:codex.step.duration'] ?? [];
      expect(histograms).toHaveLength(1);
      expect(histograms[0]?.[0]).toBe(String(2n ** 63n - 1n));
      // Buckets [left, right, count] as float32: min as the first left edge, max as the last right.
      const f = Math.fround;
      expect(histograms[0]?.[1]).toEqual([
        [f(0.15), f(0.2), 2],
        [f(0.2), f(0.4), 2],
        [f(0.4), f(0.5), 1],
      ]);
      const text = charted.train?.['text:config/text_summary']?.[0]?.[1] as string[];
      expect(text[0]).toContain('| model | "tiny" |');
    }, 60_000);
  }
});

describe.skipIf(noDataServer !== undefined)(
  `TensorBoard's Rust data server (--load_fast=true)${noDataServer ? ` (skipped: ${noDataServer})` : ''}`,
  () => {
    it('serves every logged point of train, eval and system exactly, through /data/plugin/scalars/scalars', async () => {
      const rows = loggedRows();
      const logdirs = await Promise.all(
        (['simple_value', 'tensor'] as const).map((form) => writeRunAsync(form, rows, 'rust')),
      );
      const logdir = path.dirname(logdirs[0] as string);
      // Above the longest series (1,503 train points), or TensorBoard samples 1,000 of them.
      const server = await startTensorBoard(logdir, 10_000);
      try {
        expect(server.provider).toMatch(/^GrpcDataProvider/);
        const expected = new Map<string, Array<[number, number, number]>>();
        for (const row of rows) {
          row.names.forEach((name, i) => {
            const key = `${row.phase}\u0000${name}`;
            const points = expected.get(key) ?? [];
            points.push([row.ts, Number(row.step), Math.fround(row.values[i] as number)]);
            expected.set(key, points);
          });
        }
        for (const dir of logdirs) {
          for (const [key, points] of expected) {
            const [phase, tag] = key.split('\u0000') as [string, string];
            const run = `${path.basename(dir)}/exp/${phase}`;
            const served = await server.scalars(run, tag);
            expect(served.length, `${run} ${tag}`).toBe(points.length);
            served.forEach(([wall, step, value], i) => {
              const [ts, wantStep, want] = points[i] as [number, number, number];
              expect(step, `${run} ${tag} #${i}`).toBe(wantStep);
              expect(wall, `${run} ${tag} #${i}`).toBeCloseTo(ts, 5);
              expect(
                Object.is(value, want) || value === want,
                `${run} ${tag} step ${step}: ${value} vs ${want}`,
              ).toBe(true);
            });
          }
        }
      } finally {
        await server.close();
      }
    }, 120_000);
  },
);
