/**
 * Rows in flight (README "Bounds"): the same `log()` loop (5 scalars, NDJSON + TensorBoard + W&B)
 * never yielding to the event loop beside yielding every 1000 steps, each in a child of its own for
 * a clean RSS; and a stuck sink (a FIFO whose reader is stopped) over 1,000,000 `log()` calls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnAsync } from '../test/helpers/spawn-async.js';
import type { Bench, BenchResult } from './types.js';

const CHILDREN = fileURLToPath(new URL('../../test/fixtures/children/', import.meta.url));
const MIB = 2 ** 20;

interface LoopResult {
  steps: number;
  logNsPerCall: number;
  peakRssBytes: number;
  health: Array<[string, boolean]>;
}

async function child<T>(script: string, args: string[]): Promise<T> {
  const result = await spawnAsync(process.execPath, [path.join(CHILDREN, script), ...args], {
    timeout: 1_800_000,
  });
  if (result.status !== 0) throw new Error(`${script} exited ${String(result.status)}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

function countLines(file: string): number {
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(1 << 20);
  let count = 0;
  for (let read = fs.readSync(fd, buffer); read > 0; read = fs.readSync(fd, buffer)) {
    for (let at = buffer.indexOf(10); at !== -1 && at < read; at = buffer.indexOf(10, at + 1)) count++;
  }
  fs.closeSync(fd);
  return count;
}

export const run: Bench = async ({ quick, tmpDir }) => {
  const steps = quick ? 200_000 : 10_000_000;
  const loop = async (mode: 'never' | 'yield'): Promise<LoopResult & { lines: number }> => {
    const outDir = path.join(tmpDir, mode);
    const result = await child<LoopResult>('never-yield.mjs', [outDir, String(steps), mode, 'all', '5']);
    const lines = countLines(path.join(outDir, '.codex/metrics.ndjson'));
    fs.rmSync(outDir, { recursive: true, force: true });
    return { ...result, lines };
  };
  const yielding = await loop('yield');
  const never = await loop('never');
  const allUp = never.health.every(([, up]) => up) && never.lines === steps * 5;
  const stuckSteps = quick ? 200_000 : 1_000_000;
  const stuckDir = path.join(tmpDir, 'stuck');
  fs.mkdirSync(stuckDir);
  const stuck = await child<{
    p99Micros: number;
    peakRssBytes: number;
    droppedRows: number;
    linesRead: number;
  }>('stuck-fifo.mjs', [stuckDir, String(stuckSteps)]);
  const exact = stuck.linesRead + 3 * stuck.droppedRows === 3 * stuckSteps;
  const rows: BenchResult[] = [
    {
      figure: `log() 5 scalars, every sink, loop that never yields (${steps.toLocaleString('en')} steps; every NDJSON line written: ${allUp ? 'yes' : 'NO'})`,
      unit: 'µs/call',
      ours: never.logNsPerCall / 1000,
      baseline: yielding.logNsPerCall / 1000,
      baselineName: 'the same loop yielding every 1000 steps',
      ratio: yielding.logNsPerCall / never.logNsPerCall,
      goal: '<= 2x the yielding loop (ratio >= 0.5), every row written',
      met: allUp && never.logNsPerCall <= 2 * yielding.logNsPerCall,
    },
    {
      figure: 'peak RSS, loop that never yields, every sink',
      unit: 'MiB',
      ours: never.peakRssBytes / MIB,
      baseline: yielding.peakRssBytes / MIB,
      baselineName: 'the same loop yielding every 1000 steps',
      ratio: undefined,
      goal: '<= 200 MB (ceiling)',
      met: never.peakRssBytes <= 200e6,
    },
    {
      figure: `stuck sink (FIFO, reader stopped): p99 log() over ${stuckSteps.toLocaleString('en')} calls; dropped counted exactly: ${exact ? 'yes' : 'NO'}`,
      unit: 'µs',
      ours: stuck.p99Micros,
      baseline: undefined,
      baselineName: 'none (absolute goal)',
      ratio: undefined,
      goal: '<= 50 µs, drops counted exactly',
      met: exact && stuck.p99Micros <= 50,
    },
    {
      figure: 'peak RSS, stuck sink',
      unit: 'MiB',
      ours: stuck.peakRssBytes / MIB,
      baseline: undefined,
      baselineName: 'none (absolute goal)',
      ratio: undefined,
      goal: '<= 200 MB (ceiling)',
      met: stuck.peakRssBytes <= 200e6,
    },
  ];
  return rows;
};
