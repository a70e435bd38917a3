import { describe, expect, it } from 'vitest';
import { decodeStepRows } from '../../src/exporters/step-rows.js';
import { StepProducer } from '../../src/instruments/step-producer.js';
import type { StepRow } from '../../src/instruments/step-row.js';

const ROWS: StepRow[] = [
  { phase: 'train', step: 0, ts: 1700000000.25, names: ['loss', 'lr'], values: [1, 0.1] },
  { phase: 'eval', step: 0, ts: 1700000000.5, names: ['accuracy'], values: [0.5] },
  { phase: 'train', step: 2n ** 62n, ts: 1700000001, names: ['lr', 'loss', 'new'], values: [0.2, NaN, -0] },
  { phase: 'system', step: 3, ts: 1700000002, names: ['cpu_percent'], values: [12.5] },
];

describe('step rows through the OTel data model', () => {
  it('come back from the producer’s own collections exactly as logged', async () => {
    const producer = new StepProducer();
    for (const row of ROWS) producer.push(row);
    const { resourceMetrics } = await producer.collect();
    expect(decodeStepRows(resourceMetrics)).toEqual(ROWS);
  });

  it('are rebuilt from the gauge data points alone (any other producer of the same shape), in logged order', async () => {
    const producer = new StepProducer();
    for (const row of ROWS) producer.push(row);
    const { resourceMetrics } = await producer.collect();
    // A copy of the scope loses the producer's side table: only the points remain.
    const copy = {
      ...resourceMetrics,
      scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({ ...scope })),
    };
    const rebuilt = decodeStepRows(copy);
    expect(rebuilt.map((row) => [row.phase, row.step])).toEqual(ROWS.map((row) => [row.phase, row.step]));
    for (const [i, row] of rebuilt.entries()) {
      const original = ROWS[i] as StepRow;
      const byName = new Map(original.names.map((name, j) => [name, original.values[j]]));
      expect(row.names.map((name) => byName.get(name))).toEqual(row.values);
      expect(new Set(row.names)).toEqual(new Set(original.names));
      expect(row.ts).toBeCloseTo(original.ts, 6);
    }
  });
});
