/**
 * `codex-ndjson summarize` on a generated ~1 GB stream (8 million lines, 100 metric names, train and
 * eval; ~50 MB with --quick), beside `cat FILE > /dev/null` and a jq reduce over the same file, in
 * the same run. Runs the built CLI as a child process so peak RSS is its own.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, BenchResult } from './types.js';

const CLI = fileURLToPath(new URL('../src/cli/codex-ndjson.js', import.meta.url));
const NAMES = Array.from({ length: 100 }, (_, i) =>
  i % 3 === 0 ? `loss_${i}` : i % 3 === 1 ? `accuracy_${i}` : `train/metric_${i}`,
);

function generate(file: string, lines: number): void {
  const fd = fs.openSync(file, 'w');
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    const step = Math.floor(i / NAMES.length);
    const phase = step % 10 === 9 ? 'eval' : 'train';
    chunk += `{"v":1,"ts":${1_764_334_495 + i / 1000},"run_id":"bench001","step":${step},"name":"${NAMES[i % NAMES.length]}","value":${Math.sin(i) * 10},"tags":{"phase":"${phase}"}}\n`;
    if (chunk.length > 1 << 22) {
      fs.writeSync(fd, chunk);
      chunk = '';
    }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

function timed(
  command: string,
  args: string[],
  options: { shell?: boolean } = {},
): { seconds: number; maxRssKb: number } {
  // GNU time reports the child's peak RSS; fall back to wall time alone without it.
  const hasTime = fs.existsSync('/usr/bin/time');
  const start = process.hrtime.bigint();
  const result = hasTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
        shell: options.shell,
      })
    : spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 26, shell: options.shell });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  const maxRssKb = hasTime ? Number(result.stderr.trim().split('\n').at(-1)) : NaN;
  return { seconds, maxRssKb };
}

export const run: Bench = async ({ quick, tmpDir }) => {
  const lines = quick ? 400_000 : 8_000_000;
  const file = path.join(tmpDir, 'big.ndjson');
  generate(file, lines);
  const size = fs.statSync(file).size;
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache for everyone

  const cat = timed('sh', ['-c', `cat "${file}" > /dev/null`]);
  const ours = timed(process.execPath, [CLI, 'summarize', file, '--format', 'json']);
  const results: BenchResult[] = [];
  results.push({
    figure: `summarize ${(size / 1e9).toFixed(2)} GB (${lines.toLocaleString('en')} lines) vs cat`,
    unit: 's',
    ours: ours.seconds,
    baseline: cat.seconds,
    baselineName: '`cat FILE > /dev/null`',
    ratio: cat.seconds / ours.seconds,
    goal: 'within 15x of cat (ratio >= 0.067); under 2 s for 1 GB',
    met: cat.seconds / ours.seconds >= 1 / 15 && (quick || ours.seconds < 2),
  });
  const jqAvailable = spawnSync('jq', ['--version']).status === 0;
  if (jqAvailable) {
    const jq = timed('jq', ['-n', 'reduce inputs as $r ({}; .[$r.name] += 1)', file]);
    results.push({
      figure: 'summarize vs jq reduce over the same file',
      unit: 's',
      ours: ours.seconds,
      baseline: jq.seconds,
      baselineName: 'jq -n reduce (Debian jq)',
      ratio: jq.seconds / ours.seconds,
      goal: '>= 80x jq',
      met: jq.seconds / ours.seconds >= 80,
    });
  } else if (process.env.CI) {
    throw new Error('jq is required for the summarize benchmark (apt-get install jq)');
  }
  results.push({
    figure: 'summarize peak RSS',
    unit: 'MB',
    ours: ours.maxRssKb / 1024,
    baseline: 200,
    baselineName: 'the 200 MB budget',
    ratio: 200 / (ours.maxRssKb / 1024),
    goal: '< 200 MB',
    met: ours.maxRssKb / 1024 < 200,
  });
  fs.rmSync(file, { force: true });
  return results;
};
