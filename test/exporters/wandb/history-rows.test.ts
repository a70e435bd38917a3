import { describe, expect, it } from 'vitest';
import { HistoryRowAssembler, sameStep } from '../../../src/formats/wandb/history-rows.js';
import type { StepRow } from '../../../src/step.js';

const TWO_62 = 2n ** 62n;

function rowsFor(steps: Array<number | bigint>): StepRow[] {
  return steps.map((step, i) => ({
    phase: 'train',
    step,
    ts: 1_700_000_000 + i,
    names: ['loss'],
    values: [i],
  }));
}

function assemble(rows: StepRow[]): Array<{ step: number | bigint; values: ReadonlyArray<number | bigint> }> {
  const assembler = new HistoryRowAssembler();
  const out = [];
  for (const row of rows) {
    const done = assembler.add(row);
    if (done) out.push(done);
  }
  const last = assembler.take();
  if (last) out.push(last);
  return out.map(({ step, values }) => ({ step, values }));
}

describe('W&B history rows beyond 2^53', () => {
  it('keeps steps 2^62, 2^62+1 and 2^62+2 as three history rows (they are one double apart from none)', () => {
    // As doubles all three are 2^62: a comparison through Number() would merge them into one row.
    expect(Number(TWO_62) === Number(TWO_62 + 2n)).toBe(true);
    expect(assemble(rowsFor([TWO_62, TWO_62 + 1n, TWO_62 + 2n]))).toEqual([
      { step: TWO_62, values: [0] },
      { step: TWO_62 + 1n, values: [1] },
      { step: TWO_62 + 2n, values: [2] },
    ]);
  });

  it('writes a row behind the last step at the last step, even when the two differ only past 2^53', () => {
    const history = assemble([...rowsFor([TWO_62 + 2n]), { ...rowsFor([TWO_62 + 1n])[0]!, phase: 'eval' }]);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ step: TWO_62 + 2n, values: [0, 0, TWO_62 + 1n] });
  });

  it('keeps 2^53, 2^53+1 and 2^53+2 as three rows, where doubles would round the middle one away', () => {
    const TWO_53 = 2n ** 53n;
    expect(Number(TWO_53 + 1n)).toBe(Number(TWO_53));
    expect(assemble(rowsFor([TWO_53, TWO_53 + 1n, TWO_53 + 2n]))).toEqual([
      { step: TWO_53, values: [0] },
      { step: TWO_53 + 1n, values: [1] },
      { step: TWO_53 + 2n, values: [2] },
    ]);
  });

  it('orders negative steps and the int64 extremes, and writes -2^63 after 2^63-1 at 2^63-1', () => {
    const MIN = -(2n ** 63n);
    const MAX = 2n ** 63n - 1n;
    expect(assemble(rowsFor([MIN, -3, -1, 0, MAX]))).toEqual([
      { step: MIN, values: [0] },
      { step: -3, values: [1] },
      { step: -1, values: [2] },
      { step: 0, values: [3] },
      { step: MAX, values: [4] },
    ]);
    // -2^63 arriving after 2^63-1 is behind it: kept at 2^63-1, its own step in train/step.
    expect(assemble(rowsFor([MAX, MIN]))).toEqual([{ step: MAX, values: [1, MIN] }]);
    // A negative step behind a less negative one, the same rule.
    expect(assemble(rowsFor([-1, -2]))).toEqual([{ step: -1, values: [1, -2] }]);
  });

  it('compares a safe number step with the same bigint step as equal, and neighbours past 2^53 as different', () => {
    expect(sameStep(2 ** 53 - 1, 2n ** 53n - 1n)).toBe(true);
    expect(sameStep(7, 7)).toBe(true);
    expect(sameStep(7, 8)).toBe(false);
    expect(sameStep(7, 8n)).toBe(false);
    expect(sameStep(TWO_62, TWO_62 + 1n)).toBe(false);
    expect(sameStep(2 ** 53, 2n ** 53n + 1n)).toBe(false);
  });
});

describe('W&B history rows', () => {
  const row = (
    phase: 'train' | 'eval',
    step: number,
    ts: number,
    names: string[],
    values: number[],
  ): StepRow => ({
    phase,
    step,
    ts,
    names,
    values,
  });

  it('merges rows of one step, eval names prefixed, later values winning, the latest time kept', () => {
    const assembler = new HistoryRowAssembler();
    expect(assembler.holding).toBe(false);
    const trainRow = row('train', 5, 20, ['loss', 'lr'], [0.5, 1e-3]);
    expect(assembler.add(trainRow)).toBeUndefined();
    expect(assembler.holding).toBe(true);
    expect(assembler.add(row('eval', 5, 10, ['loss'], [0.7]))).toBeUndefined();
    expect(assembler.add(row('train', 5, 30, ['loss'], [0.4]))).toBeUndefined();
    const done = assembler.add(row('train', 6, 40, ['loss'], [0.3]));
    expect(done).toMatchObject({
      step: 5,
      ts: 30,
      keys: ['loss', 'lr', 'eval/loss'],
      values: [0.4, 1e-3, 0.7],
    });
    // The caller's arrays are never written to.
    expect(trainRow.names).toEqual(['loss', 'lr']);
    expect(trainRow.values).toEqual([0.5, 1e-3]);
    expect(assembler.take()).toMatchObject({ step: 6, ts: 40, keys: ['loss'], values: [0.3] });
    expect(assembler.take()).toBeUndefined();
  });

  it('writes a train row behind the last step at that step, with its own step as train/step', () => {
    const assembler = new HistoryRowAssembler();
    assembler.add(row('train', 10, 1, ['loss'], [1]));
    expect(assembler.add(row('train', 4, 2, ['acc'], [0.5]))).toBeUndefined();
    expect(assembler.take()).toMatchObject({
      step: 10,
      ts: 2,
      keys: ['loss', 'acc', 'train/step'],
      values: [1, 0.5, 4],
    });
  });

  it('keeps the latest time of a step when the row merged last is older', () => {
    const assembler = new HistoryRowAssembler();
    assembler.add(row('train', 5, 20, ['loss'], [1]));
    assembler.add(row('eval', 5, 10, ['acc'], [2]));
    expect(assembler.take()).toMatchObject({ step: 5, ts: 20, keys: ['loss', 'eval/acc'], values: [1, 2] });
  });

  it('keeps a row at the last step as that step, not behind it', () => {
    const assembler = new HistoryRowAssembler();
    assembler.add(row('train', 3, 1, ['loss'], [1]));
    assembler.add(row('eval', 3, 1, ['acc'], [2]));
    expect(assembler.take()).toMatchObject({ step: 3, ts: 1, keys: ['loss', 'eval/acc'], values: [1, 2] });
  });
});
