import { describe, expect, it } from 'vitest';
import { SummaryAggregator } from '../../../src/summarize/aggregator.js';
import { mergeSummaries } from '../../../src/summarize/merge.js';
import { buildReport } from '../../../src/summarize/report.js';
import { PHASE_EVAL, PHASE_TRAIN, type PhaseId } from '../../../src/formats/ndjson/metric-visitor.js';

function aggregate(phase: PhaseId, values: ReadonlyArray<number>, firstStep = 0): SummaryAggregator {
  const aggregator = new SummaryAggregator();
  const name = aggregator.tables.names.idOfString('loss');
  values.forEach((value, i) => aggregator.scalar(phase, name, -1, firstStep + i, 1_700_000_000 + i, value));
  return aggregator;
}

function trainRow(aggregator: SummaryAggregator) {
  return buildReport(aggregator.toSummary(), new Map()).phases[0]!.rows[0]!;
}

describe('summarize statistics', () => {
  it('gives the exact mean where plain summation loses it: 1, 1e100, 1, -1e100 average 0.5, not 0', () => {
    // Plain left-to-right addition gives (((1 + 1e100) + 1) - 1e100) = 0; the compensation keeps the 2.
    const values = [1, 1e100, 1, -1e100];
    expect(values.reduce((a, b) => a + b, 0)).toBe(0);
    const summary = aggregate(PHASE_TRAIN, values).toSummary();
    expect(summary.metrics[0]!.sum + summary.metrics[0]!.sumCompensation).toBe(2);
    expect(trainRow(aggregate(PHASE_TRAIN, values)).mean).toBe(0.5);
  });

  it('keeps the low-order bits whichever of the running sum and the new value is larger', () => {
    // 3 then 2^53: the new value is larger. 2^53 then 1 then 1: the running sum is larger.
    expect(trainRow(aggregate(PHASE_TRAIN, [3, 2 ** 53, -(2 ** 53)])).mean).toBe(1);
    expect(trainRow(aggregate(PHASE_TRAIN, [2 ** 53, 1, 1, -(2 ** 53)])).mean).toBe(0.5);
  });

  it('merging two halves gives the same sum as aggregating the whole', () => {
    const values = [0.1, 1e17, 0.2, -1e17, 0.3, 1e-3, 7];
    const whole = aggregate(PHASE_TRAIN, values).toSummary().metrics[0]!;
    const merged = mergeSummaries([
      aggregate(PHASE_TRAIN, values.slice(0, 3)).toSummary(),
      aggregate(PHASE_TRAIN, values.slice(3), 3).toSummary(),
    ]).metrics[0]!;
    expect(merged.sum + merged.sumCompensation).toBe(whole.sum + whole.sumCompensation);
    expect(merged.count).toBe(7);
  });

  it('reports min, max, first and last with their steps, counting NaN and ±Infinity apart', () => {
    const metric = aggregate(PHASE_EVAL, [3, NaN, -2, Infinity, 9, -Infinity, 4], 10).toSummary().metrics[0]!;
    expect(metric).toMatchObject({
      phase: 'eval',
      name: 'loss',
      count: 7,
      nonFinite: 3,
      first: 3,
      firstStep: 10,
      last: 4,
      lastStep: 16,
      min: -2,
      minStep: 12,
      max: 9,
      maxStep: 14,
      sum: 14,
    });
  });

  it('keeps the first step that reached the extreme when a later step ties it', () => {
    const metric = aggregate(PHASE_TRAIN, [5, 1, 5, 1]).toSummary().metrics[0]!;
    expect(metric).toMatchObject({ min: 1, minStep: 1, max: 5, maxStep: 0 });
  });

  it('tracks the step range per phase and the time range, with bigint steps beyond 2^53', () => {
    const aggregator = new SummaryAggregator();
    const loss = aggregator.tables.names.idOfString('loss');
    aggregator.scalar(PHASE_TRAIN, loss, -1, 2n ** 62n, 20, 1);
    aggregator.scalar(PHASE_TRAIN, loss, -1, 5, 10, 2);
    aggregator.scalar(PHASE_EVAL, loss, -1, 7, 30, 3);
    const summary = aggregator.toSummary();
    expect(summary.steps).toEqual([
      { phase: 'train', min: 5, max: 2n ** 62n },
      { phase: 'eval', min: 7, max: 7 },
    ]);
    expect([summary.tsMin, summary.tsMax]).toEqual([10, 30]);
  });
});
