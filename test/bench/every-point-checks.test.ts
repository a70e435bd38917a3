// The every-point check's verdicts (bench/every-point/run.ts): its counters must see a missing,
// duplicated or torn point, or a 10M-row run could pass with rows lost.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countNdjsonRows } from '../../bench/every-point/ndjson-rows-counter.js';
import { ScalarPointsCounter } from '../../bench/every-point/scalar-points-counter.js';
import { startStandinServer } from '../helpers/wandb-standin-server.js';

const answer = (steps: number[]): string =>
  JSON.stringify(steps.map((step) => [1796645198.5 + step, step, 1 / (step + 1)])).replace(/,/g, ', ');

function countAnswer(text: string, expected: number, chunk = 7): ReturnType<ScalarPointsCounter['finish']> {
  const counter = new ScalarPointsCounter(expected);
  const bytes = Buffer.from(text);
  // Cut into small chunks, so numbers and points straddle chunk ends as they do over HTTP.
  for (let i = 0; i < bytes.length; i += chunk) counter.push(bytes.subarray(i, i + chunk));
  return counter.finish();
}

describe('ScalarPointsCounter', () => {
  it('counts every step of 0..N-1 once in a streamed answer', () => {
    const check = countAnswer(answer([0, 1, 2, 3, 4]), 5);
    expect(check).toMatchObject({ points: 5, distinctInRange: 5, duplicates: 0, malformed: 0 });
    expect([check.minStep, check.maxStep]).toEqual([0, 4]);
  });

  it('sees a missing, a duplicated and an out-of-range step', () => {
    const check = countAnswer(answer([0, 1, 1, 3, 5]), 5);
    expect(check).toMatchObject({ points: 5, distinctInRange: 3, duplicates: 1, outOfRange: 1 });
  });

  it('reads TensorBoard non-finite strings as values and counts a short point as malformed', () => {
    const check = countAnswer('[[1.5, 0, "NaN"], [1.5, 1, "Infinity"], [1.5, 2]]', 3);
    expect(check).toMatchObject({ points: 3, distinctInRange: 2, malformed: 1 });
  });

  it('refuses an answer cut off inside its array', () => {
    const counter = new ScalarPointsCounter(2);
    counter.push(Buffer.from('[[1.5, 0, 1.0], [1.5, 1'));
    expect(() => counter.finish()).toThrow(/inside its array/);
    expect(counter.progress().points).toBe(1);
  });
});

describe('countNdjsonRows', () => {
  const names = ['loss', 'lr'];
  const line = (step: number, name: string): string =>
    JSON.stringify({ v: 1, ts: 1, run_id: 'r', step, name, value: 0.5, tags: { phase: 'train' } });

  function write(lines: string[], end = '\n'): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-every-point-'));
    const file = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(file, lines.join('\n') + end);
    return file;
  }

  it('counts steps × names distinct train rows', async () => {
    const file = write([0, 1, 2].flatMap((step) => names.map((name) => line(step, name))));
    const check = await countNdjsonRows(file, 3, names);
    expect(check).toMatchObject({ lines: 6, rows: 6, completeSteps: 3, duplicates: 0, unexpected: 0 });
  });

  it('sees a missing row, a duplicate, a foreign line and a torn last line', async () => {
    const file = write(
      [line(0, 'loss'), line(0, 'lr'), line(1, 'loss'), line(1, 'loss'), '{"v":1,', line(2, 'lr')],
      '',
    );
    const check = await countNdjsonRows(file, 3, names);
    expect(check).toMatchObject({ lines: 5, rows: 3, completeSteps: 1, duplicates: 1, unexpected: 2 });
  });
});

describe('the stand-in server with keepHistory false', () => {
  async function post(url: string, body: unknown): Promise<void> {
    const response = await fetch(`${url}/files/e/p/run1/file_stream`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
  }
  const rows = (steps: number[]): string[] => steps.map((step) => JSON.stringify({ _step: step, loss: 0.5 }));

  it('checks rows as they arrive and keeps none', async () => {
    const server = await startStandinServer({ keepHistory: false });
    try {
      await post(server.url, { files: { 'wandb-history.jsonl': { offset: 0, content: rows([0, 1]) } } });
      await post(server.url, { files: { 'wandb-history.jsonl': { offset: 2, content: rows([2]) } } });
      const run = server.runs.get('run1');
      expect(run?.history).toEqual([]);
      expect(run?.historyCheck).toEqual({
        received: 3,
        rows: 3,
        offsetProblems: [],
        lastStep: 2,
        stepProblems: [],
      });
    } finally {
      await server.close();
    }
  });

  it('reports a gap in offsets and a _step that does not increase', async () => {
    const server = await startStandinServer({ keepHistory: false });
    try {
      await post(server.url, { files: { 'wandb-history.jsonl': { offset: 0, content: rows([0, 1]) } } });
      await post(server.url, { files: { 'wandb-history.jsonl': { offset: 3, content: rows([1]) } } });
      const check = server.runs.get('run1')?.historyCheck;
      expect(check?.offsetProblems).toEqual(['offset 3 arrived when 2 was next']);
      expect(check?.stepProblems).toEqual(['offset 3: _step 1 after 1']);
    } finally {
      await server.close();
    }
  });
});
