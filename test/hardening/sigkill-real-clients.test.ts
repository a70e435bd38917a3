/**
 * 20 demo runs (flushInterval 0.5 s) SIGKILLed at seeded random moments, then read by the real
 * clients: every W&B run goes through the real `wandb sync` to a stand-in server and must arrive
 * with a summary equal to its last history row; TensorBoard's Rust data server must serve every
 * step the event files hold. Each sink's lag behind the NDJSON is measured, reported, and held to
 * one flush interval plus one step (all sinks flush on the pipeline's one clock).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readEventFile } from '../../src/exporters/tensorboard/event-file-reader.js';
import { parseLine } from '../helpers/ndjson-lines.js';
import { dataServerMissing, startTensorBoard } from '../helpers/tensorboard-server.js';
import { startStandinServer } from '../helpers/wandb-standin-server.js';
import { requireWandbInCi, wandbSync } from '../helpers/wandb-sync.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/codex-telemetry.js', import.meta.url));
const KILLS = 20;
const PARALLEL = 2;
const FLUSH_INTERVAL_S = 0.5;
const SEED = 15;

const noWandb = requireWandbInCi('sigkill-real-clients.test.ts');
const noDataServer = dataServerMissing();
if (noDataServer !== undefined && process.env.CI) {
  throw new Error(`sigkill-real-clients.test.ts: tensorboard --load_fast=true cannot run: ${noDataServer}`);
}

/** mulberry32: a small seeded generator, so the kill moments are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-kill-clients-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Starts a demo, kills it `afterMs` after it says it is running; resolves once it is dead. */
async function killDemo(out: string, afterMs: number): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'demo',
      '--out',
      out,
      '--steps',
      '1000000',
      '--step-delay-ms',
      '2',
      '--no-prometheus',
      '--checkpoint-every',
      '0',
    ],
    {
      env: { ...process.env, CODEX_FLUSH_INTERVAL: String(FLUSH_INTERVAL_S) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('demo: run ')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`demo exited (${code}) before it was killed`)));
  });
  child.removeAllListeners('exit');
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  const dead = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await dead;
}

interface NdjsonTrain {
  /** Train step → timestamp of its first line. */
  ts: Map<number, number>;
  lastStep: number;
}

function ndjsonTrain(out: string): NdjsonTrain {
  const text = fs.readFileSync(path.join(out, '.codex', 'metrics.ndjson'), 'utf8');
  const ts = new Map<number, number>();
  let lastStep = -1;
  // A torn last line is the one damage a kill may leave: only whole lines count.
  for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
    if (line === '') continue;
    const parsed = parseLine(line);
    if (parsed.tags.phase !== 'train') continue;
    const step = Number(parsed.step);
    if (!ts.has(step)) ts.set(step, parsed.ts);
    lastStep = Math.max(lastStep, step);
  }
  return { ts, lastStep };
}

function eventFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.includes('tfevents'));
}

/** Seconds between the NDJSON's last train line and that of the sink's last step (0 when level). */
function lagSeconds(ndjson: NdjsonTrain, sinkLastStep: number): number {
  if (sinkLastStep >= ndjson.lastStep) return 0;
  return (ndjson.ts.get(ndjson.lastStep) as number) - (ndjson.ts.get(sinkLastStep) ?? ndjson.ts.get(0) ?? 0);
}

/** The longest gap between consecutive train steps in the last second before the kill. */
function slowestRecentStep(ndjson: NdjsonTrain): number {
  const end = ndjson.ts.get(ndjson.lastStep) ?? 0;
  let slowest = 0;
  for (let step = 1; step <= ndjson.lastStep; step++) {
    const at = ndjson.ts.get(step);
    const before = ndjson.ts.get(step - 1);
    if (at !== undefined && before !== undefined && end - at <= 1) slowest = Math.max(slowest, at - before);
  }
  return slowest;
}

const describeReal = describe.skipIf(noWandb !== undefined);
describeReal(
  `${KILLS} SIGKILLed demo runs read by the real clients${noWandb ? ` (skipped: ${noWandb})` : ''}`,
  () => {
    it('every W&B run syncs with a summary equal to its last history row, the data server serves every TensorBoard step written, and each sink stays within one interval plus one step of the NDJSON', async () => {
      const random = seeded(SEED);
      const moments = Array.from({ length: KILLS }, () => Math.round(300 + random() * 2700));
      const outs = moments.map((_, i) => path.join(root, `kill-${String(i).padStart(2, '0')}`));
      for (let i = 0; i < KILLS; i += PARALLEL) {
        await Promise.all(
          outs.slice(i, i + PARALLEL).map((out, j) => killDemo(out, moments[i + j] as number)),
        );
      }

      const server = await startStandinServer();
      const runDirs = outs.map((out) => {
        const wandbDir = path.join(out, 'wandb');
        const run = fs.readdirSync(wandbDir).find((name) => name.startsWith('offline-run-'));
        return path.join(wandbDir, run as string);
      });
      let sync;
      try {
        sync = await wandbSync(runDirs, server.url, {
          entity: 'codex',
          project: 'kills',
          timeoutMs: 120_000,
        });
      } finally {
        await server.close();
      }
      expect(sync.code, sync.output).toBe(0);
      expect(sync.output).not.toMatch(/wandb: ERROR/);
      expect(server.unexpected).toEqual([]);

      const stepSeconds: number[] = [];
      const report: string[] = [];
      const wandbLags: number[] = [];
      const tbLags: number[] = [];
      const tbHeld = new Map<string, number[]>();
      outs.forEach((out, i) => {
        const ndjson = ndjsonTrain(out);
        const runId = (runDirs[i] as string).slice(-8);
        const synced = server.runs.get(runId);
        expect(synced, `kill ${i}: run ${runId} reached the server`).toBeDefined();
        expect(synced?.exitCode, `kill ${i}`).toBe(1);
        const history = synced?.history ?? [];
        const last = history.at(-1);
        if (last !== undefined) {
          for (const [key, value] of Object.entries(last)) {
            expect(synced?.summary?.[key], `kill ${i} summary.${key}`).toEqual(value);
          }
        }
        const wandbLast = last === undefined ? -1 : (last._step as number);
        // Every synced row is a step the NDJSON holds too, at the same values' step.
        expect(history.map((row) => row._step)).toEqual(history.map((_, j) => j));
        // A run killed before the TensorBoard sink's first flush leaves no run folder at all.
        const runsDir = path.join(out, 'runs');
        const runName = fs.existsSync(runsDir) ? (fs.readdirSync(runsDir)[0] ?? '') : '';
        const trainDir = path.join(runsDir, runName, 'train');
        const trainSteps = eventFiles(trainDir).flatMap((file) =>
          readEventFile(path.join(trainDir, file))
            .events.filter((event) => event.values?.some((value) => value.tag === 'loss'))
            .map((event) => Number(event.step)),
        );
        tbHeld.set(`${path.basename(out)}/runs/${runName}/train`, trainSteps);
        const tbLast = Math.max(...trainSteps, -1);
        stepSeconds.push(slowestRecentStep(ndjson));
        const wandbLag = lagSeconds(ndjson, wandbLast);
        const tbLag = lagSeconds(ndjson, tbLast);
        wandbLags.push(wandbLag);
        tbLags.push(tbLag);
        report.push(
          `kill ${i} at ${moments[i]} ms: ndjson step ${ndjson.lastStep}, wandb ${wandbLast} (${ndjson.lastStep - wandbLast} steps, ${wandbLag.toFixed(3)} s), ` +
            `tensorboard ${tbLast} (${ndjson.lastStep - tbLast} steps, ${tbLag.toFixed(3)} s)`,
        );
      });
      console.info(
        `${report.join('\n')}\nwandb-core WARN/ERROR over ${KILLS} killed runs: ${JSON.stringify([...new Set(sync.coreProblems)])}`,
      );
      // One interval plus one step (the slowest step of the run's last second), plus 0.1 s for
      // timers that fire late on a loaded two-core machine.
      const bound = FLUSH_INTERVAL_S + Math.max(...stepSeconds) + 0.1;
      console.info(
        `lag bound ${bound.toFixed(3)} s; worst wandb ${Math.max(...wandbLags).toFixed(3)} s, worst tensorboard ${Math.max(...tbLags).toFixed(3)} s`,
      );
      // Only the known warning for runs without an exit record.
      expect(new Set(sync.coreProblems)).toEqual(
        new Set(['WARN: runsync: no exit record encountered, using exit code 1 (failed)']),
      );
      for (const lag of wandbLags) expect(lag).toBeLessThanOrEqual(bound);
      for (const lag of tbLags) expect(lag).toBeLessThanOrEqual(bound);

      if (noDataServer === undefined) {
        const tensorboard = await startTensorBoard(root, 1_000_000);
        try {
          expect(tensorboard.provider).toMatch(/^GrpcDataProvider/);
          for (const [run, steps] of tbHeld) {
            if (steps.length === 0) continue;
            const deadline = Date.now() + 30_000;
            let served: number[] = [];
            // The data server loads in the background: wait until it has read the files.
            while (Date.now() < deadline) {
              served = (await tensorboard.scalars(run, 'loss').catch(() => [])).map(([, s]) => s);
              if (served.length >= steps.length) break;
              await new Promise((resolve) => setTimeout(resolve, 250));
            }
            expect(served, run).toEqual(steps);
          }
        } finally {
          await tensorboard.close();
        }
      } else {
        console.warn(`not checked with TensorBoard's data server: ${noDataServer}`);
      }
    }, 300_000);
  },
);
