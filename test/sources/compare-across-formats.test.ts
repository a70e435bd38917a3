/**
 * `codex-ndjson summarize --compare` with a TensorBoard run, a W&B run and one of our NDJSON runs
 * side by side: the same scorecards and deltas, whatever wrote each run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runSummarize } from '../cli/summarize/run-command.js';

const RUNS = fileURLToPath(new URL('../fixtures/real-writers/runs/', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-compare-formats-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const wandbRun = (id: string): string => {
  const folder = fs.readdirSync(path.join(RUNS, 'wandb')).find((name) => name.endsWith(`-${id}`)) as string;
  return path.join(RUNS, 'wandb', folder);
};

describe('summarize --compare across formats', () => {
  it('compares a TensorBoard run, a W&B run and an NDJSON run metric by metric, with deltas against the first', async () => {
    const ndjson = path.join(tmp, 'metrics.ndjson');
    fs.writeFileSync(
      ndjson,
      [0, 1, 2, 3]
        .map((step) =>
          JSON.stringify({
            v: 1,
            ts: 1700000000 + step,
            run_id: 'ours0001',
            step,
            name: 'loss',
            value: 4 - step,
            tags: { phase: 'train' },
          }),
        )
        .join('\n') + '\n',
    );
    const restarted = path.join(RUNS, 'pytorch', 'restarted');
    const result = await runSummarize([
      '--compare',
      restarted,
      wandbRun('fin1sh3d'),
      ndjson,
      '-f',
      'json',
      '--no-progress',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // One comparison per run after the first.
    const { comparisons } = JSON.parse(result.stdout) as {
      comparisons: Array<{
        a: { label: string };
        b: { runIds: string[] };
        rows: Array<Record<string, unknown>>;
      }>;
    };
    expect(comparisons.map((c) => c.b.runIds)).toEqual([['finished-run (fin1sh3d)'], ['ours0001']]);
    expect(comparisons).toHaveLength(2);
    const loss = (i: number): Record<string, unknown> | undefined =>
      comparisons[i]?.rows.find((row) => row.phase === 'train' && row.name === 'loss');
    // TensorBoard: loss ends at 107 (step 7, after the restart); W&B: at 1/25; ours: at 1.
    expect(loss(0)).toMatchObject({ lastA: 107, lastB: 0.04, bestA: 8, bestB: 0.04, better: 'B' });
    expect(loss(1)).toMatchObject({ lastA: 107, lastB: 1, bestA: 8, bestB: 1, better: 'B' });
    const table = await runSummarize(['--compare', restarted, wandbRun('fin1sh3d'), ndjson, '--no-progress']);
    expect(table.stdout).toContain('finished-run (fin1sh3d)');
  });
});
