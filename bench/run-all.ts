/**
 * `npm run bench [-- --quick] [-- --no-fail]`: runs every bench/*.bench.js and prints one table of
 * our figure, the baseline measured in the same run, the ratio (> 1 = better than the baseline) and
 * the goal. Exits non-zero when a goal row fails (or a bench throws); `--no-fail` only reports, for
 * exploring on a machine the goals were not set for.
 *
 * Not run here: `npm run bench:every-point` (bench/every-point/run.ts), every point of a
 * 10,000,000-step never-yielding run through NDJSON, `tensorboard --load_fast=true` and
 * `wandb sync`, which takes tens of minutes and several GB; its header says how to run it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchResult } from './types.js';

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

const USAGE = `usage: node dist/bench/run-all.js [--quick] [--no-fail] [--only=PREFIX] [--dashboard-full]
Runs every bench/*.bench.js whose name starts with PREFIX and prints one table: our figure, the
baseline measured in the same run, the ratio and the goal. Exits 1 when a goal row fails, unless
--no-fail. --dashboard-full runs the dashboard benches at the issue's sizes. Not run here:
npm run bench:every-point (node dist/bench/every-point/run.js --help).
`;

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const quick = process.argv.includes('--quick');
  const noFail = process.argv.includes('--no-fail');
  const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const files = fs
    .readdirSync(here)
    .filter((file) => file.endsWith('.bench.js'))
    .filter((file) => only === undefined || file.startsWith(only))
    .sort();
  const rows: Array<BenchResult & { bench: string }> = [];
  let failures = 0;
  for (const file of files) {
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-bench-'));
    process.stderr.write(`bench: ${file}${quick ? ' (quick)' : ''}...\n`);
    try {
      const module = (await import(pathToFileURL(path.join(here, file)).href)) as { run: Bench };
      for (const result of await module.run({ quick, tmpDir }))
        rows.push({ ...result, bench: file.replace('.bench.js', '') });
    } catch (error) {
      failures++;
      process.stderr.write(
        `bench: ${file} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    } finally {
      fs.rmSync(tmpDir, { recursive: true, force: true });
    }
  }
  const header = ['bench', 'figure', 'ours', 'baseline', 'baseline is', 'ratio', 'goal', 'met'];
  const table = rows.map((row) => [
    row.bench,
    row.figure,
    `${format(row.ours)} ${row.unit}`,
    row.baseline === undefined ? 'not measured' : `${format(row.baseline)} ${row.unit}`,
    row.baselineName,
    row.ratio === undefined ? '—' : `${row.ratio.toFixed(2)}x`,
    row.goal,
    row.met === undefined ? '— (no verdict)' : row.met ? 'yes' : 'NO',
  ]);
  const failedGoals = rows.filter((row) => row.met === false);
  process.stdout.write(`| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |\n`);
  for (const line of table) process.stdout.write(`| ${line.join(' | ')} |\n`);
  process.stdout.write(
    `\n${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}${quick ? ', --quick' : ''}\n`,
  );
  for (const row of failedGoals)
    process.stderr.write(`bench: goal not met: ${row.bench}: ${row.figure} (${row.goal})\n`);
  if (failures > 0 || (failedGoals.length > 0 && !noFail)) process.exitCode = 1;
}

await main();
