/** summarize keeps apart what users want apart: runs, ranks, compared runs; and reads every input form. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { summarizeCommand } from '../../../src/summarize/index.js';
import { MAX_NAMES_PER_LINE } from '../../../src/ndjson/line/parse-record.js';
import { runSummarize } from './run-command.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/ndjson/', import.meta.url));
const MIX = path.join(FIXTURES, 'mix.ndjson');
const RUN_B = path.join(FIXTURES, 'run-b.ndjson');
const BIN = fileURLToPath(new URL('../../../dist/src/cli/codex-ndjson.js', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'summarize-runs-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const scalar = (run: string, step: number, name: string, value: number, ts = 1700000000 + step): string =>
  `{"v":1,"ts":${ts},"run_id":"${run}","step":${step},"name":"${name}","value":${value},"tags":{"phase":"train"}}\n`;

describe('summarize with several runs in one input', () => {
  it('prints one scorecard per run instead of merging them (count 1600 symptom)', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(file, fs.readFileSync(MIX, 'utf8') + fs.readFileSync(RUN_B, 'utf8'));
    const split = await runSummarize([file, '-f', 'json']);
    expect(split.code).toBe(0);
    const parsed = JSON.parse(split.stdout) as { runs: { runIds: string[]; label: string }[] };
    expect(parsed.runs.map((r) => r.runIds)).toEqual([['run00001'], ['run00002']]);
    const table = await runSummarize([file]);
    expect(table.stdout).toContain('codex-ndjson summary: run run00001');
    expect(table.stdout).toContain('codex-ndjson summary: run run00002');
  });

  it('merges them into one scorecard with --merge-runs', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(file, fs.readFileSync(MIX, 'utf8') + fs.readFileSync(RUN_B, 'utf8'));
    const merged = await runSummarize([file, '-f', 'json', '--merge-runs']);
    expect((JSON.parse(merged.stdout) as { runIds: string[] }).runIds).toEqual(['run00001', 'run00002']);
  });

  it('writes one CSV with a run_id column for several runs', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(file, scalar('a', 1, 'loss', 1) + scalar('b', 1, 'loss', 2));
    const csv = (await runSummarize([file, '-f', 'csv'])).stdout.trim().split('\r\n');
    expect(csv[0]).toMatch(/^run_id,phase,metric,/);
    expect(csv.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      'a,train,loss',
      'b,train,loss',
    ]);
  });
});

describe('summarize with several ranks', () => {
  it('adds a per-rank view: min, median and max across ranks, and the slowest rank by step time', async () => {
    const ranks = [
      { file: 'metrics.ndjson', loss: 1, secondsPerStep: 1 },
      { file: 'metrics.rank1.ndjson', loss: 2, secondsPerStep: 3 },
      { file: 'metrics.rank2.ndjson', loss: 4, secondsPerStep: 2 },
    ];
    for (const r of ranks) {
      let text = '';
      for (let step = 0; step <= 10; step++)
        text += scalar('job', step, 'loss', r.loss, 1700000000 + step * r.secondsPerStep);
      fs.writeFileSync(path.join(dir, r.file), text);
    }
    const result = await runSummarize([dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ranks (3)');
    expect(result.stdout).toContain('slowest rank by step time: rank 1 (3 s/step');
    const row = result.stdout.split('\n').find((l) => l.trim().startsWith('train/loss'));
    // metric, ranks, min, min rank, median, max, max rank
    expect(row?.trim().split(/\s+/)).toEqual(['train/loss', '3', '1', '0', '2', '4', '2']);
  });
});

describe('summarize --compare', () => {
  it('takes N runs, each compared against the first', async () => {
    const c = path.join(dir, 'c.ndjson');
    fs.writeFileSync(c, scalar('run00003', 1, 'loss', 0.1));
    const result = await runSummarize(['--compare', MIX, RUN_B, c]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`A = ${MIX}, B = ${RUN_B}`);
    expect(result.stdout).toContain(`A = ${MIX}, B = ${c}`);
  });
});

describe('summarize units', () => {
  it('prints bytes and percents in human units in the table, exact numbers in json (270553174016 symptom)', async () => {
    const file = path.join(dir, 'system.ndjson');
    fs.writeFileSync(
      file,
      '{"v":1,"ts":1700000000,"run_id":"r","step":0,"name":"system","values":{"disk_used_bytes":270553174016,"ram_percent":41.26}}\n',
    );
    const table = await runSummarize([file]);
    expect(table.stdout).toContain('252.0 GiB');
    expect(table.stdout).toContain('41.3%');
    expect(table.stdout).not.toContain('270553174016');
    expect((await runSummarize([file, '-f', 'json'])).stdout).toContain('270553174016');
  });
});

describe('summarize inputs', () => {
  it('reads standard input for -', async () => {
    const out: string[] = [];
    const { Writable } = await import('node:stream');
    const sink = (chunks: string[]) =>
      new Writable({
        write(chunk: Buffer, _e, cb) {
          chunks.push(chunk.toString());
          cb();
        },
      });
    const code = await summarizeCommand(['-', '-f', 'json'], {
      stdout: sink(out),
      stderr: sink([]),
      stdin: Readable.from([fs.readFileSync(RUN_B)]),
      isTTY: false,
    });
    expect(code).toBe(0);
    const report = JSON.parse(out.join('')) as { runIds: string[]; files: string[] };
    expect(report.runIds).toEqual(['run00002']);
    expect(report.files).toEqual(['<stdin>']);
  });

  // The global setup builds dist/ first, so the bin always exists here.
  it('reads a pipe given as /dev/stdin instead of reading nothing and exiting 0', () => {
    const result = spawnSync('sh', ['-c', `cat "${RUN_B}" | node "${BIN}" summarize /dev/stdin -f json`], {
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { runIds: string[] }).runIds).toEqual(['run00002']);
  });

  it('reads the closed segments of an active file named alone (41 of 1,515 lines symptom)', async () => {
    fs.writeFileSync(
      path.join(dir, 'metrics.000001.ndjson'),
      scalar('r', 1, 'loss', 3) + scalar('r', 2, 'loss', 2),
    );
    fs.writeFileSync(path.join(dir, 'metrics.ndjson'), scalar('r', 3, 'loss', 1));
    const report = JSON.parse(
      (await runSummarize([path.join(dir, 'metrics.ndjson'), '-f', 'json'])).stdout,
    ) as {
      files: string[];
      lines: number;
    };
    expect(report.files.map((f) => path.basename(f))).toEqual(['metrics.000001.ndjson', 'metrics.ndjson']);
    expect(report.lines).toBe(3);
  });

  it('reports a line with more distinct names than the cap as malformed, in bounded memory', async () => {
    const file = path.join(dir, 'wide.ndjson');
    const names = 40_000;
    const wide: Record<string, number> = { step: 1 };
    for (let i = 0; i < names; i++) wide[`m${i}`] = i;
    fs.writeFileSync(file, `${JSON.stringify(wide)}\n{"step": 2, "loss": 1}\n`);
    const before = process.memoryUsage().rss;
    const result = await runSummarize([file, '-f', 'json']);
    const grown = process.memoryUsage().rss - before;
    const report = JSON.parse(result.stdout) as { malformed: number; malformedReports: { reason: string }[] };
    expect(report.malformed).toBe(1);
    expect(report.malformedReports[0]?.reason).toContain(`more than the ${MAX_NAMES_PER_LINE} metric names`);
    // 40,000 names took 510 MB before the cap; the line itself is about 0.6 MB.
    expect(grown).toBeLessThan(150 * 1024 * 1024);
  });
});
