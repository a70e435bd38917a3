/** A run is its run id and rank, whatever file it is in. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveRuns } from '../../src/dashboard/live-runs.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-identity-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function lines(run: string, steps: number, name = 'loss', phase = 'train'): string {
  let out = '';
  for (let step = 0; step < steps; step++)
    out += `{"v":1,"ts":${1e9 + step},"run_id":"${run}","step":${step},"name":"${name}","value":${step},"tags":{"phase":"${phase}"}}\n`;
  return out;
}

/** Runs, and per run the points of each (chart, phase). */
async function read(input: string, fromIndex: boolean): Promise<Record<string, Record<string, number>>> {
  const live = new LiveRuns({
    inputs: [input],
    backlog: { jobs: 1, indexMinBytes: fromIndex ? 0 : Infinity },
  });
  await live.start();
  live.stop();
  const out: Record<string, Record<string, number>> = {};
  for (const run of live.store.runs.keys()) out[run] = {};
  for (const chart of live.store.charts.values())
    for (const line of chart.lines.values())
      for (const series of line.ranks.values())
        (out[line.run] as Record<string, number>)[`${chart.metric} ${line.phase}`] = series.points;
  return out;
}

describe('runs are told apart by run id', () => {
  for (const fromIndex of [false, true]) {
    const how = fromIndex ? 'from the run index' : 'from the rows';
    it(`shows two runs appended one after the other to one file as two runs (${how})`, async () => {
      const seq = path.join(dir, 'seq');
      fs.mkdirSync(seq);
      fs.writeFileSync(path.join(seq, 'metrics.ndjson'), lines('first', 100) + lines('second', 150));
      expect(await read(seq, fromIndex)).toEqual({
        seq: { 'loss train': 100 },
        'seq · second': { 'loss train': 150 },
      });
    });
  }

  it('keeps the train and eval rows of a run that wrote beside a held file together', async () => {
    const codex = path.join(dir, 'seq', '.codex');
    fs.mkdirSync(codex, { recursive: true });
    fs.writeFileSync(path.join(codex, 'metrics.ndjson'), lines('a1', 30));
    fs.writeFileSync(path.join(codex, 'eval_metrics.ndjson'), lines('a1', 3, 'loss', 'eval'));
    fs.writeFileSync(path.join(codex, 'metrics.b2.ndjson'), lines('b2', 40));
    fs.writeFileSync(path.join(codex, 'eval_metrics.b2.ndjson'), lines('b2', 4, 'loss', 'eval'));
    fs.writeFileSync(path.join(codex, 'metrics.rank1.b2.ndjson'), lines('b2', 40));
    expect(await read(path.join(dir, 'seq'), false)).toEqual({
      seq: { 'loss train': 30, 'loss eval': 3 },
      'seq · b2': { 'loss train': 40, 'loss eval': 4 },
    });
  });
});
