import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSummarize } from './run-command.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/ndjson/', import.meta.url));
const MIX = path.join(FIXTURES, 'mix.ndjson');
const GIB = 1024 ** 3;

interface JsonRow {
  name: string;
  count: number;
  nonFinite: number;
  first: number | string;
  last: number | string;
  lastStep: number | null;
  min: number;
  max: number;
  mean: number;
  goal: string | undefined;
  best: number | string;
  bestStep: number | null;
}
interface JsonReport {
  runIds: string[];
  lines: number;
  malformed: number;
  files: string[];
  tsMin: number;
  tsMax: number;
  steps: { phase: string; min: number; max: number }[];
  phases: { phase: string; rows: JsonRow[] }[];
  system: { label: string; mean: number; peak: number }[];
  malformedReports: { file: string; line: number; field: string }[];
}

async function json(args: string[]): Promise<JsonReport> {
  const result = await runSummarize([...args, '--format', 'json']);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as JsonReport;
}

function row(report: JsonReport, phase: string, name: string): JsonRow {
  const found = report.phases.find((p) => p.phase === phase)?.rows.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no ${phase}/${name} in the report`);
  return found;
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'summarize-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('codex-ndjson summarize', () => {
  it('computes the hand-checked figures of the mixed train/eval/system fixture', async () => {
    const r = await json([MIX]);
    expect(row(r, 'train', 'loss')).toMatchObject({
      count: 5,
      nonFinite: 1,
      first: 2,
      last: 0.75,
      lastStep: 4,
      min: 0.75,
      max: 2,
      mean: 1.3125,
      goal: 'min',
      best: 0.75,
      bestStep: 4,
    });
    expect(row(r, 'train', 'acc')).toMatchObject({
      count: 3,
      first: 0.25,
      last: 0.75,
      mean: 0.5,
      goal: 'max',
      best: 0.75,
      bestStep: 4,
    });
    expect(row(r, 'eval', 'loss')).toMatchObject({ count: 1, last: 0.5, best: 0.5, bestStep: 3 });
    expect(row(r, 'eval', 'acc')).toMatchObject({ count: 1, last: 0.75, best: 0.75, bestStep: 3 });
    expect(r.runIds).toEqual(['run00001']);
    expect([r.tsMin, r.tsMax]).toEqual([1700000000, 1700000010]);
    expect(r.steps).toEqual([
      { phase: 'train', min: 1, max: 4 },
      { phase: 'eval', min: 3, max: 3 },
      { phase: 'system', min: 0, max: 1 },
    ]);
    expect([r.lines, r.malformed, r.files]).toEqual([11, 0, [MIX]]);
    expect(r.system).toEqual([
      { label: 'CPU (host)', unit: 'percent', mean: 75, peak: 100 },
      { label: 'RAM used', unit: 'bytes', mean: 2 * GIB, peak: 3 * GIB },
      { label: 'GPU 0 utilization', unit: 'percent', mean: 80, peak: 90 },
      { label: 'GPU 0 power', unit: 'watts', mean: 250, peak: 300 },
    ]);
  });

  it('summarizes a gzip file exactly like the plain one', async () => {
    const plain = await json([MIX]);
    const gz = await json([path.join(FIXTURES, 'mix.ndjson.gz')]);
    expect(gz.phases).toEqual(plain.phases);
    expect(gz.system).toEqual(plain.system);
  });

  it('lets --goal override the name-based direction', async () => {
    const r = await json([MIX, '--goal', 'acc=min']);
    expect(row(r, 'train', 'acc')).toMatchObject({ goal: 'min', best: 0.25, bestStep: 1 });
  });

  it('counts malformed lines, reports the first ones as file:line, and still summarizes the rest', async () => {
    const file = path.join(FIXTURES, 'malformed.ndjson');
    const result = await runSummarize([file, '--format', 'json']);
    expect(result.code).toBe(0);
    const r = JSON.parse(result.stdout) as JsonReport;
    expect(r.malformed).toBe(5);
    expect(r.malformedReports.map((m) => `${path.basename(m.file)}:${m.line}:${m.field}`)).toEqual([
      'malformed.ndjson:2:step',
      'malformed.ndjson:3:line',
      'malformed.ndjson:4:value',
      'malformed.ndjson:5:line',
      'malformed.ndjson:8:line',
    ]);
    expect(result.stderr).toContain(`${file}:2: step:`);
    // Steps beyond 2^53 print as exact digits.
    expect(result.stdout).toContain('"bestStep": 9007199254740993');
    expect(row(r, 'train', 'loss')).toMatchObject({ count: 3, min: 0.125, last: 0.125 });
  });

  it('exits 1 with --strict when a line is malformed, 0 when none is', async () => {
    expect((await runSummarize([path.join(FIXTURES, 'malformed.ndjson'), '--strict'])).code).toBe(1);
    expect((await runSummarize([MIX, '--strict'])).code).toBe(0);
  });

  it('exits 2 on usage errors with one line saying what to do and where help is, not 16 lines of usage', async () => {
    const cases: [string[], RegExp][] = [
      [[], /no input: pass NDJSON files/],
      [[MIX, '--format', 'xml'], /--format xml is not one of table, markdown, json, csv, html/],
      [[MIX, '--goal', 'loss'], /NAME=min or NAME=max/],
      [[path.join(dir, 'missing.ndjson')], /no such file or directory/],
      [[path.join(dir, '*.ndjson')], /the pattern matches no file/],
      [[MIX, '--bogus'], /unknown option --bogus/],
      [['--compare', MIX], /--compare needs at least two runs/],
    ];
    for (const [argv, message] of cases) {
      const result = await runSummarize(argv);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(
        /^codex-ndjson: [^\n]+\nRun "codex-ndjson summarize --help" for usage\.\n$/,
      );
    }
  });

  it('reads every *.ndjson and *.ndjson.gz in a directory, and glob patterns', async () => {
    fs.copyFileSync(MIX, path.join(dir, 'metrics.000001.ndjson'));
    fs.copyFileSync(path.join(FIXTURES, 'run-b.ndjson'), path.join(dir, 'metrics.ndjson'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not metrics');
    const byDir = await json([dir, '--merge-runs']);
    expect(byDir.files.map((f) => path.basename(f))).toEqual(['metrics.000001.ndjson', 'metrics.ndjson']);
    expect(row(byDir, 'train', 'loss')).toMatchObject({ count: 7, first: 2, last: 0.5 });
    const byGlob = await json([path.join(dir, 'metrics.*.ndjson')]);
    expect(byGlob.files.map((f) => path.basename(f))).toEqual(['metrics.000001.ndjson']);
  });

  it('prints a table with sparklines and the system section', async () => {
    const result = await runSummarize([MIX]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    const loss = lines.find((l) => /^\s+loss\s/.test(l));
    expect(loss?.trim().split(/\s+/)).toEqual([
      'loss',
      '5',
      '2',
      '0.75',
      '0.75',
      '2',
      '1.3125',
      '0.75',
      '(min)',
      '4',
      '1',
      '█▂▅▁',
    ]);
    expect(result.stdout).toMatch(/CPU \(host\)\s+75%\s+100%/);
    expect(result.stdout).toMatch(/RAM used\s+2\.0 GiB\s+3\.0 GiB/);
    expect(result.stdout).toMatch(/GPU 0 power\s+250 W\s+300 W/);
    expect(result.stdout).toContain('train 1..4 · eval 3..3 · system 0..1');
    expect(result.stderr).toBe('');
  });

  it('writes markdown tables that a markdown renderer can take as they are', async () => {
    const result = await runSummarize([MIX, '-f', 'markdown']);
    expect(result.stdout).toContain('## train (2 metrics)');
    expect(result.stdout).toContain(
      '| metric | count | first | last | min | max | mean | best | best step | non-finite | trend |',
    );
    expect(result.stdout).toContain(
      '| loss | 5 | 2 | 0.75 | 0.75 | 2 | 1.3125 | 0.75 (min) | 4 | 1 | █▂▅▁ |',
    );
  });

  it('writes CSV with one row per phase and metric', async () => {
    const out = path.join(dir, 'summary.csv');
    const result = await runSummarize([MIX, '-f', 'csv', '--out', out]);
    expect(result.stdout).toBe('');
    const rows = fs.readFileSync(out, 'utf8').trimEnd().split('\r\n');
    expect(rows[0]).toBe(
      'phase,metric,count,first,last,last_step,min,max,mean,goal,best,best_step,non_finite',
    );
    expect(rows).toContain('train,loss,5,2,0.75,4,0.75,2,1.3125,min,0.75,4,1');
    expect(rows).toContain('system,cpu_percent,2,50,100,1,50,100,75,,,,0');
    expect(rows).toHaveLength(1 + 4 + 4);
  });

  it('writes a self-contained HTML report with one chart per metric and its data embedded', async () => {
    const result = await runSummarize([MIX, '-f', 'html']);
    const html = result.stdout;
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const data = /<script type="application\/json" id="codex-summary">([\s\S]*?)<\/script>/.exec(html)?.[1];
    const embedded = JSON.parse(data ?? 'null') as JsonReport;
    expect(row(embedded, 'train', 'loss').mean).toBe(1.3125);
    const charts = [...html.matchAll(/<div class="chart" data-metric="([^"]+)">/g)].map((m) => m[1]);
    expect(charts).toEqual([
      'acc',
      'loss',
      'system/cpu_percent',
      'system/gpu_0_power_w',
      'system/gpu_0_util_percent',
      'system/ram_used_bytes',
    ]);
    // loss: train and eval overlaid; the train line breaks at the NaN (two M commands).
    const lossChart = html.slice(
      html.indexOf('data-metric="loss"'),
      html.indexOf('data-metric="system/cpu_percent"'),
    );
    const paths = [...lossChart.matchAll(/data-series="(\w+)" d="([^"]*)"/g)].map((m) => [m[1], m[2]]);
    expect(paths.map(([s]) => s)).toEqual(['train', 'eval']);
    expect(paths[0]?.[1]?.match(/M/g)).toHaveLength(2);
    expect(paths[0]?.[1]?.match(/[ML]/g)).toHaveLength(4);
  });

  it('compares two runs side by side with deltas and which is better', async () => {
    const result = await runSummarize(['--compare', MIX, path.join(FIXTURES, 'run-b.ndjson'), '-f', 'json']);
    expect(result.code).toBe(0);
    const { rows } = JSON.parse(result.stdout) as { rows: Record<string, unknown>[] };
    const find = (phase: string, name: string): Record<string, unknown> | undefined =>
      rows.find((r) => r.phase === phase && r.name === name);
    expect(find('train', 'loss')).toMatchObject({
      lastA: 0.75,
      lastB: 0.5,
      deltaLast: -0.25,
      bestA: 0.75,
      bestB: 0.5,
      deltaBest: -0.25,
      better: 'B',
    });
    expect(find('train', 'loss')?.changePercent).toBeCloseTo(-33.3333, 3);
    expect(find('train', 'acc')).toMatchObject({ bestA: 0.75, bestB: 0.5, better: 'A' });
    expect(find('eval', 'loss')).toMatchObject({ bestA: 0.5, bestB: 0.25, changePercent: -50, better: 'B' });
    expect(find('eval', 'acc')).toMatchObject({ lastA: 0.75, lastB: null, deltaLast: null, better: '' });
    const table = await runSummarize(['--compare', MIX, path.join(FIXTURES, 'run-b.ndjson')]);
    expect(table.stdout).toMatch(/loss\s+0\.75\s+0\.5\s+-0\.25\s+0\.75\s+0\.5\s+-0\.25\s+-33\.33%\s+B/);
  });

  it('prints "-" in --compare for a metric the other run lacks, not NaN, which reads as divergence', async () => {
    const a = path.join(dir, 'a.ndjson');
    const b = path.join(dir, 'b.ndjson');
    fs.writeFileSync(
      a,
      '{"step": 0, "loss": 2, "tokens_per_second": 100}\n{"step": 1, "loss": 1, "tokens_per_second": 120}\n',
    );
    fs.writeFileSync(b, '{"step": 0, "loss": 1.5}\n{"step": 1, "loss": 0.5}\n');
    for (const format of ['table', 'markdown', 'html']) {
      const result = await runSummarize(['--compare', a, b, '-f', format]);
      expect(result.code).toBe(0);
      expect(result.stdout, format).not.toMatch(/\bNaN\b/);
    }
    const table = await runSummarize(['--compare', a, b]);
    expect(table.stdout).toMatch(/^\s+tokens_per_second\s+120\s+-\s+-\s+120\s+-\s+-\s+-\s+-\s*$/m);
    // A NaN the run did log is still NaN.
    fs.writeFileSync(b, '{"step": 0, "loss": 1.5, "tokens_per_second": NaN}\n');
    expect((await runSummarize(['--compare', a, b])).stdout).toMatch(/^\s+tokens_per_second\s+120\s+NaN\s/m);
  });

  it('prints bytes and percents of a comparison in human units', async () => {
    const a = path.join(dir, 'a.ndjson');
    const b = path.join(dir, 'b.ndjson');
    fs.writeFileSync(a, `{"step": 0, "proc_rss_bytes": ${3 * GIB}, "gpu_0_util_percent": 41.26}\n`);
    fs.writeFileSync(b, `{"step": 0, "proc_rss_bytes": ${2.5 * GIB}, "gpu_0_util_percent": 87.5}\n`);
    const table = await runSummarize(['--compare', a, b]);
    expect(table.stdout).toMatch(/proc_rss_bytes\s+3\.0 GiB\s+2\.5 GiB\s+-512\.0 MiB\s/);
    expect(table.stdout).toMatch(/gpu_0_util_percent\s+41\.3%\s+87\.5%\s+\+46\.2%\s/);
  });

  it('writes "best", "bestStep" and "goal" as null in JSON for a metric without a goal, never the string "NaN"', async () => {
    const file = path.join(dir, 'nogoal.ndjson');
    fs.writeFileSync(file, '{"step": 0, "lr": 0.1, "loss": 2}\n{"step": 1, "lr": 0.05, "loss": 1}\n');
    const report = await json([file]);
    const rows = report.phases.flatMap((p) => p.rows);
    expect(rows.find((r) => r.name === 'lr')).toMatchObject({ goal: null, best: null, bestStep: null });
    expect(Object.keys(rows.find((r) => r.name === 'lr') ?? {})).toContain('goal');
    expect(rows.find((r) => r.name === 'loss')).toMatchObject({ goal: 'min', best: 1, bestStep: 1 });
  });

  it('exits 1 for an input with no valid row (summarize README.md), instead of 0 with 0 rows', async () => {
    const readme = path.join(dir, 'README.md');
    fs.writeFileSync(readme, '# a title\n\nsome prose, not metrics\n');
    const result = await runSummarize([readme]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/no valid row in .*README\.md \(3 lines, 2 malformed\)/);
    const compared = await runSummarize(['--compare', MIX, readme]);
    expect(compared.code).toBe(1);
    expect(compared.stderr).toMatch(/no valid row in .*README\.md/);
  });

  it('draws progress on stderr only when stderr is a terminal', async () => {
    const quiet = await runSummarize([MIX], false);
    expect(quiet.stderr).toBe('');
    const terminal = await runSummarize([MIX], true);
    // A redrawn line (carriage return, erase line, bytes done / total, ETA), cleared at the end.
    const ERASE = '\r\u001b[K';
    expect(terminal.stderr.startsWith(ERASE)).toBe(true);
    expect(terminal.stderr.slice(ERASE.length)).toMatch(/^[\d.]+ \w+ \/ [\d.]+ \w+ .*ETA /);
    expect(terminal.stderr.endsWith(ERASE)).toBe(true);
    expect(terminal.stdout).toBe(quiet.stdout);
  });
});
