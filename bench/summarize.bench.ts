/**
 * `codex-ndjson summarize` on a generated schema-v1 file (~1 GB, 8 million lines, 100 metric names,
 * train and eval; ~50 MB in quick mode), beside `cat FILE > /dev/null` (the disk/page-cache
 * floor), a jq reduce computing the same per-metric count/sum/min/max, and a plain Node
 * readline + JSON.parse reader, all in the same run. Each reader runs in its own process so its
 * time and peak RSS are its own; the summarize child reads with worker threads as the CLI does.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, BenchResult } from './types.js';

const SUMMARIZE = fileURLToPath(new URL('../src/summarize/index.js', import.meta.url));
const NAMES = Array.from({ length: 100 }, (_, i) =>
  i === 0 ? 'loss' : i === 1 ? 'accuracy' : `train/metric_${String(i).padStart(3, '0')}`,
);
const JQ_FILTER =
  'reduce inputs as $l ({}; ($l.tags.phase + "/" + $l.name) as $k | ($l.value | numbers) as $v | ' +
  '.[$k] |= {n: ((.n // 0) + 1), s: ((.s // 0) + $v), lo: ([.lo, $v] | map(numbers) | min), hi: ([.hi, $v] | map(numbers) | max)})';

/** Writes `steps` steps of 100 train scalars, and 100 eval scalars every 100 steps. */
function generate(file: string, steps: number): void {
  const fd = fs.openSync(file, 'w');
  let chunk = '';
  const line = (ts: number, step: number, name: string, value: number, phase: string): void => {
    chunk += `{"v":1,"ts":${Math.round(ts * 1e6) / 1e6},"run_id":"bench001","step":${step},"name":"${name}","value":${value},"tags":{"phase":"${phase}"}}\n`;
    if (chunk.length > 8_000_000) {
      fs.writeSync(fd, chunk);
      chunk = '';
    }
  };
  for (let step = 0; step < steps; step++) {
    const ts = 1.76e9 + step * 0.25;
    for (let i = 0; i < NAMES.length; i++)
      line(ts, step, NAMES[i] as string, 2.3 * Math.exp(-step / 20000) + 0.01 * Math.sin(i + step), 'train');
    if (step % 100 === 99)
      for (let i = 0; i < NAMES.length; i++)
        line(
          ts + 0.1,
          step,
          NAMES[i] as string,
          Math.round((1 - Math.exp(-step / 30000)) * 1e4) / 1e4,
          'eval',
        );
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

interface ChildFigure {
  ms: number;
  maxRssMb: number;
}

/** Runs an ES module snippet in a fresh node; it prints `{ms, maxRssMb}` as its last line. */
function nodeChild(code: string): ChildFigure {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (child.status !== 0) throw new Error(`bench child failed (${child.status}): ${child.stderr}`);
  const last = child.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as ChildFigure;
}

function summarizeChild(file: string): ChildFigure {
  return nodeChild(`
    import { Writable } from 'node:stream';
    import { summarizeCommand } from ${JSON.stringify(SUMMARIZE)};
    const sink = new Writable({ write(_c, _e, cb) { cb(); } });
    const start = performance.now();
    const code = await summarizeCommand([${JSON.stringify(file)}, '--no-progress'], { stdout: sink, stderr: process.stderr, env: process.env, isTTY: false });
    if (code !== 0) process.exit(code);
    console.log(JSON.stringify({ ms: performance.now() - start, maxRssMb: process.resourceUsage().maxRSS / 1024 }));`);
}

function readlineChild(file: string): ChildFigure {
  return nodeChild(`
    import fs from 'node:fs';
    import readline from 'node:readline';
    const start = performance.now();
    const stats = new Map();
    for await (const line of readline.createInterface({ input: fs.createReadStream(${JSON.stringify(file)}), crlfDelay: Infinity })) {
      const r = JSON.parse(line);
      const key = r.tags.phase + '/' + r.name;
      const s = stats.get(key) ?? { n: 0, sum: 0, min: Infinity, max: -Infinity };
      s.n++; if (typeof r.value === 'number') { s.sum += r.value; s.min = Math.min(s.min, r.value); s.max = Math.max(s.max, r.value); }
      stats.set(key, s);
    }
    console.log(JSON.stringify({ ms: performance.now() - start, maxRssMb: process.resourceUsage().maxRSS / 1024 }));`);
}

function timeShell(command: string): number {
  const start = performance.now();
  const child = spawnSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.status !== 0) throw new Error(`${command} failed: ${child.stderr.toString()}`);
  return performance.now() - start;
}

function hasJq(): boolean {
  return spawnSync('jq', ['--version']).status === 0;
}

export const run: Bench = async ({ quick, tmpDir }) => {
  const steps = quick ? 3_800 : 80_000;
  const file = path.join(tmpDir, 'metrics.ndjson');
  generate(file, steps);
  const size = fs.statSync(file).size;
  const sizeText = `${(size / 1e6).toFixed(0)} MB`;
  // Warm the page cache for everyone: every reader below measures parsing, not the disk.
  timeShell(`cat "${file}" > /dev/null`);
  const cat = Math.min(timeShell(`cat "${file}" > /dev/null`), timeShell(`cat "${file}" > /dev/null`));
  const ours = [summarizeChild(file), summarizeChild(file)].sort((a, b) => a.ms - b.ms)[0] as ChildFigure;
  const naive = readlineChild(file);
  const results: BenchResult[] = [];
  if (hasJq()) {
    const jq = timeShell(`jq -n '${JQ_FILTER}' "${file}" > /dev/null`);
    results.push({
      figure: `summarize ${sizeText} (${(steps * 101).toLocaleString('en')} lines), s`,
      unit: 's',
      ours: ours.ms / 1000,
      baseline: jq / 1000,
      baselineName: 'jq reduce (count/sum/min/max per metric)',
      ratio: jq / ours.ms,
      goal: '>= 80x jq',
      met: jq / ours.ms >= 80,
    });
  } else {
    process.stderr.write('bench summarize: jq not installed (apt-get install jq); the jq row is left out\n');
  }
  results.push(
    {
      figure: `summarize ${sizeText} beside cat > /dev/null, s`,
      unit: 's',
      ours: ours.ms / 1000,
      baseline: cat / 1000,
      baselineName: 'cat FILE > /dev/null (page cache)',
      ratio: cat / ours.ms,
      goal: 'within 15x of cat (ratio >= 0.067)',
      met: ours.ms <= 15 * cat,
    },
    {
      figure: `summarize ${sizeText} throughput, MB/s`,
      unit: 'MB/s',
      ours: size / 1e3 / ours.ms,
      baseline: size / 1e3 / naive.ms,
      baselineName: 'Node readline + JSON.parse',
      ratio: naive.ms / ours.ms,
      // 1 GB under 2 s. A quick-mode file is too small to amortize starting the worker threads.
      goal: '>= 500 MB/s (1 GB under 2 s; judged on the full-size run)',
      met: size / 1e3 / ours.ms >= 500,
    },
    {
      figure: `summarize ${sizeText} peak RSS, MB`,
      unit: 'MB',
      ours: ours.maxRssMb,
      baseline: naive.maxRssMb,
      baselineName: 'Node readline + JSON.parse (peak RSS)',
      ratio: naive.maxRssMb / ours.maxRssMb,
      goal: '< 200 MB',
      met: ours.maxRssMb < 200,
    },
  );
  fs.rmSync(file, { force: true });
  return results;
};
