/**
 * TensorBoard and W&B runs followed while their writers write: each poll reads what was added, a
 * torn last record waits for the rest, a restart arriving later is applied, and what was read in
 * pieces equals what one read of the finished files gives.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveRuns } from '../../src/dashboard/live-runs.js';
import { SeriesStore } from '../../src/dashboard/series-store.js';
import { SourceRunReader } from '../../src/dashboard/source-run-reader.js';
import type { MalformedLine } from '../../src/ndjson/line/metric-visitor.js';
import { collectRun, collector, type CollectedRun } from '../helpers/collect-run.js';

const RUNS = fileURLToPath(new URL('../fixtures/real-writers/runs/', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-live-follow-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function eventFile(dir: string): string {
  return path.join(
    dir,
    fs.readdirSync(dir).find((name) => name.startsWith('events.out.tfevents.')) as string,
  );
}
function wandbLog(id: string): string {
  const wandb = path.join(RUNS, 'wandb');
  const folder = fs.readdirSync(wandb).find((name) => name.endsWith(`-${id}`)) as string;
  return path.join(wandb, folder, `run-${id}.wandb`);
}

/** Appends `bytes` to `file` in pieces of growing, uneven sizes, calling `after` after each. */
async function writeInPieces(file: string, bytes: Buffer, after: () => Promise<void>): Promise<number> {
  let at = 0;
  let pieces = 0;
  for (let size = 1; at < bytes.length; size = (size * 7 + 3) % 4099 || 1) {
    fs.appendFileSync(file, bytes.subarray(at, at + size));
    at += size;
    pieces++;
    await after();
  }
  return pieces;
}

const plain = (run: CollectedRun): Record<string, Array<[number, number, number]>> =>
  Object.fromEntries(
    [...run.points].map(([tag, points]) => [tag, points.map((p) => [Number(p.step), p.ts, p.value])]),
  );

describe('following a TensorBoard run', () => {
  it('reads a file written in uneven pieces exactly as one read of the whole, reporting nothing while a record is torn', async () => {
    const source = eventFile(path.join(RUNS, 'tensorboardx'));
    const dir = path.join(tmp, 'tb-growing');
    fs.mkdirSync(dir);
    const live = collector('tfevents', dir, 64);
    const pieces = await writeInPieces(
      path.join(dir, path.basename(source)),
      fs.readFileSync(source),
      async () => {
        await live.reader.poll();
      },
    );
    expect(pieces).toBeGreaterThan(20);
    expect(live.problems).toEqual([]);
    expect(plain(live)).toEqual(plain(await collectRun('tfevents', source)));
  });

  it('applies a restart that arrives in a later file: the run is read again and the orphaned steps go', async () => {
    const source = path.join(RUNS, 'pytorch', 'restarted');
    const [first, second] = fs.readdirSync(source).sort();
    const dir = path.join(tmp, 'tb-restart');
    fs.mkdirSync(dir);
    const live = collector('tfevents', dir);
    fs.copyFileSync(path.join(source, first as string), path.join(dir, first as string));
    await live.reader.poll();
    expect(live.points.get('loss')?.map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5]);
    fs.copyFileSync(path.join(source, second as string), path.join(dir, second as string));
    await live.reader.poll();
    expect(live.resets).toBe(1);
    expect(live.points.get('loss')?.map((p) => [p.step, p.value])).toEqual([
      [0, 10],
      [1, 9],
      [2, 8],
      [3, 103],
      [4, 104],
      [5, 105],
      [6, 106],
      [7, 107],
    ]);
  });
});

describe('following a W&B run', () => {
  it('reads a log written in uneven pieces exactly as one read, running until its exit record, then finished', async () => {
    const source = wandbLog('fin1sh3d');
    const dir = path.join(tmp, 'offline-run-20250101_000000-fin1sh3d');
    fs.mkdirSync(dir);
    const live = collector('wandb', dir);
    const states = new Set<string>();
    await writeInPieces(path.join(dir, 'run-fin1sh3d.wandb'), fs.readFileSync(source), async () => {
      await live.reader.poll();
      states.add(live.reader.info.state ?? '');
    });
    expect(live.problems).toEqual([]);
    expect([...states]).toEqual(['running', 'finished']);
    expect(plain(live)).toEqual(plain(await collectRun('wandb', source)));
  });
});

describe('the dashboard', () => {
  it('shows TensorBoard and W&B runs beside each other and grows their charts as files grow, a torn record waiting', async () => {
    const root = path.join(tmp, 'dashboard');
    const tbDir = path.join(root, 'tb');
    fs.mkdirSync(tbDir, { recursive: true });
    const wandbDir = path.join(root, 'wandb', 'offline-run-20250101_000000-k1lled01');
    fs.mkdirSync(wandbDir, { recursive: true });
    fs.copyFileSync(wandbLog('k1lled01'), path.join(wandbDir, 'run-k1lled01.wandb'));
    const source = fs.readFileSync(eventFile(path.join(RUNS, 'tensorboardx')));
    const tbFile = path.join(tbDir, 'events.out.tfevents.1.host');
    fs.writeFileSync(tbFile, source.subarray(0, source.length >> 1));
    const malformed: Array<[string, MalformedLine]> = [];
    const live = new LiveRuns({
      inputs: [root],
      onMalformed: (file, line) => malformed.push([file, line]),
      pollMs: 10,
    });
    await live.tick();
    expect([...live.store.runs.keys()].sort()).toEqual(['killed-run (k1lled01)', 'tb']);
    const loss = (): number =>
      [...(live.store.charts.get('train/loss')?.lines.values() ?? [])][0]?.ranks.get(0)?.points ?? 0;
    const before = loss();
    expect(before).toBeGreaterThan(0);
    fs.appendFileSync(tbFile, source.subarray(source.length >> 1));
    await live.tick();
    expect(loss()).toBe(30);
    expect(live.store.charts.get('loss')?.lines.size).toBe(1);
    // The killed run's torn record waits: a live writer may still finish it.
    expect(malformed).toEqual([]);
    live.stop();
  });

  it('tells once which tags it does not draw, and what they hold', async () => {
    const told: string[] = [];
    const spec = { kind: 'tfevents' as const, path: path.join(RUNS, 'pytorch', 'run_a'), name: 'run_a' };
    const reader = new SourceRunReader(
      spec,
      new SeriesStore(),
      () => undefined,
      60_000,
      (run, key, kind) => told.push(`${run}: ${key} (${kind})`),
    );
    await reader.poll();
    await reader.poll();
    expect(told).toEqual(['run_a: weights/fc1 (histogram)']);
  });

  it('reports a torn last record, with file and offset, once its writer has been quiet for the set time', async () => {
    const store = new SeriesStore();
    const malformed: Array<[string, MalformedLine]> = [];
    const spec = { kind: 'wandb' as const, path: wandbLog('k1lled01'), name: 'k1lled01' };
    const reader = new SourceRunReader(
      spec,
      store,
      (file, line) => malformed.push([file, line]),
      0,
      () => undefined,
    );
    expect(await reader.poll()).toBe(true);
    expect(malformed).toEqual([]);
    expect(await reader.poll()).toBe(false);
    const torn = (await collectRun('wandb', spec.path)).problems[0]?.offset;
    expect(malformed).toEqual([[spec.path, expect.objectContaining({ field: `byte offset ${torn}` })]]);
    expect(reader.info.state).toBe('crashed');
    expect(store.malformed).toBe(1);
    // Reported once, not at every quiet poll.
    await reader.poll();
    expect(malformed).toHaveLength(1);
  });
});
