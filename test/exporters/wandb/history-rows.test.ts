import { describe, expect, it } from 'vitest';
import { HistoryRowAssembler, sameStep } from '../../../src/exporters/wandb/history-rows.js';
import type { StepRow } from '../../../src/instruments/step-row.js';

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
    expect(history[0]).toEqual({ step: TWO_62 + 2n, values: [0, 0, TWO_62 + 1n] });
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
