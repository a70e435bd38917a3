import { describe, expect, it } from 'vitest';
import { SummaryAggregator } from '../../../src/summarize/aggregator.js';
import { mergeSummaries } from '../../../src/summarize/merge.js';
import { buildReport } from '../../../src/summarize/report.js';
import type { RunSummary } from '../../../src/summarize/summary-types.js';
import {
  PHASE_EVAL,
  PHASE_SYSTEM,
  PHASE_TRAIN,
  type PhaseId,
} from '../../../src/ndjson/line/metric-visitor.js';

function aggregate(phase: PhaseId, values: ReadonlyArray<number>, firstStep = 0): SummaryAggregator {
  const aggregator = new SummaryAggregator();
  const name = aggregator.tables.names.idOfString('loss');
  values.forEach((value, i) => aggregator.scalar(phase, name, -1, firstStep + i, 1_700_000_000 + i, value));
  return aggregator;
}

/** The per-run summaries (the aggregator always fills `byRun`; the type allows it absent). */
function runsOf(aggregator: SummaryAggregator): RunSummary[] {
  return aggregator.toSummary().byRun ?? [];
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

describe('summarize runs, phases and names', () => {
  it('splits lines by run id, and a line without one belongs to the run read last', () => {
    const aggregator = new SummaryAggregator();
    const loss = aggregator.tables.names.idOfString('loss');
    const a = aggregator.tables.runs.idOfString('run-a');
    const b = aggregator.tables.runs.idOfString('run-b');
    aggregator.scalar(PHASE_TRAIN, loss, a, 1, 100, 10);
    aggregator.scalar(PHASE_TRAIN, loss, -1, 2, 101, 20);
    aggregator.scalar(PHASE_TRAIN, loss, b, 1, 200, 1);
    aggregator.scalar(PHASE_TRAIN, loss, a, 3, 102, 30);
    aggregator.scalar(PHASE_TRAIN, loss, -1, 4, 103, 40);
    const byRun = runsOf(aggregator);
    expect(byRun.map((run) => run.runIds)).toEqual([['run-a'], ['run-b']]);
    expect(byRun[0]!.metrics[0]).toMatchObject({ count: 4, first: 10, last: 40, min: 10, max: 40, sum: 100 });
    expect(byRun[1]!.metrics[0]).toMatchObject({ count: 1, first: 1, last: 1, sum: 1 });
    expect([byRun[0]!.tsMin, byRun[0]!.tsMax]).toEqual([100, 103]);
    expect([byRun[1]!.tsMin, byRun[1]!.tsMax]).toEqual([200, 200]);
    expect(byRun[0]!.steps).toEqual([{ phase: 'train', min: 1, max: 4 }]);
  });

  it('keeps the earliest and latest time whatever order the rows come in, and no files or reports per run', () => {
    const aggregator = new SummaryAggregator();
    const loss = aggregator.tables.names.idOfString('loss');
    for (const ts of [50, 90, 10, 70]) aggregator.scalar(PHASE_TRAIN, loss, -1, 1, ts, 1);
    const run = runsOf(aggregator)[0]!;
    expect([run.tsMin, run.tsMax]).toEqual([10, 90]);
    expect(run.files).toEqual([]);
    expect(run.malformedReports).toEqual([]);
  });

  it('keeps lines without any run id as one run with no id', () => {
    const aggregator = aggregate(PHASE_TRAIN, [1, 2]);
    const { runIds } = aggregator.toSummary();
    const byRun = runsOf(aggregator);
    expect(byRun).toHaveLength(1);
    expect(byRun[0]!.runIds).toEqual([]);
    expect(runIds).toEqual([]);
  });

  it('lists each (phase, name) once, ordered by name first seen then phase', () => {
    const aggregator = new SummaryAggregator();
    const loss = aggregator.tables.names.idOfString('loss');
    const acc = aggregator.tables.names.idOfString('acc');
    aggregator.scalar(PHASE_EVAL, acc, -1, 1, 1, 0.5);
    aggregator.scalar(PHASE_SYSTEM, loss, -1, 1, 1, 7);
    aggregator.scalar(PHASE_TRAIN, loss, -1, 1, 1, 2);
    aggregator.scalar(PHASE_TRAIN, acc, -1, 2, 2, 0.25);
    const metrics = runsOf(aggregator)[0]!.metrics;
    expect(metrics.map((m) => [m.phase, m.name, m.count, m.first])).toEqual([
      ['train', 'loss', 1, 2],
      ['system', 'loss', 1, 7],
      ['train', 'acc', 1, 0.25],
      ['eval', 'acc', 1, 0.5],
    ]);
  });

  it('gives no time range for rows without a time, and no step range for a phase without steps', () => {
    const aggregator = new SummaryAggregator();
    const loss = aggregator.tables.names.idOfString('loss');
    aggregator.scalar(PHASE_TRAIN, loss, -1, NaN, NaN, 1);
    aggregator.scalar(PHASE_TRAIN, loss, -1, NaN, NaN, 3);
    const run = runsOf(aggregator)[0]!;
    expect(run.tsMin).toBeNaN();
    expect(run.tsMax).toBeNaN();
    expect(run.steps).toEqual([]);
    expect(run.metrics[0]).toMatchObject({ count: 2, min: 1, max: 3, sum: 4 });
  });

  it('seeds the step range from the first step with a value, ignoring rows without a step', () => {
    const aggregator = new SummaryAggregator();
    const loss = aggregator.tables.names.idOfString('loss');
    aggregator.scalar(PHASE_TRAIN, loss, -1, NaN, 1, 1);
    aggregator.scalar(PHASE_TRAIN, loss, -1, 8, 2, 1);
    aggregator.scalar(PHASE_TRAIN, loss, -1, NaN, 3, 1);
    aggregator.scalar(PHASE_TRAIN, loss, -1, 3, 4, 1);
    aggregator.scalar(PHASE_TRAIN, loss, -1, 9, 5, 1);
    expect(runsOf(aggregator)[0]!.steps).toEqual([{ phase: 'train', min: 3, max: 9 }]);
  });

  it('samples the series with bigint steps as numbers, in arrival order', () => {
    const aggregator = new SummaryAggregator();
    const loss = aggregator.tables.names.idOfString('loss');
    aggregator.scalar(PHASE_TRAIN, loss, -1, 2n ** 60n, 1, 1.5);
    aggregator.scalar(PHASE_TRAIN, loss, -1, 3, 2, NaN);
    expect(aggregator.toSummary().metrics[0]!.sample).toEqual({
      steps: [2 ** 60, 3],
      values: [1.5, NaN],
      stride: 1,
    });
  });

  it('keeps a non-finite first value as first, outside min, max and sum', () => {
    const metric = aggregate(PHASE_TRAIN, [-Infinity, 2, -3]).toSummary().metrics[0]!;
    expect(metric).toMatchObject({
      first: -Infinity,
      firstStep: 0,
      nonFinite: 1,
      min: -3,
      minStep: 2,
      max: 2,
      maxStep: 1,
    });
    expect(metric.sum + metric.sumCompensation).toBe(-1);
  });

  it('has min +Infinity and max -Infinity for a metric with only non-finite values', () => {
    const metric = aggregate(PHASE_TRAIN, [NaN, Infinity]).toSummary().metrics[0]!;
    expect(metric).toMatchObject({
      count: 2,
      nonFinite: 2,
      min: Infinity,
      max: -Infinity,
      sum: 0,
      sumCompensation: 0,
    });
    expect(metric.minStep).toBeNaN();
    expect(metric.maxStep).toBeNaN();
  });
});

describe('summarize malformed lines', () => {
  it('keeps the first reports with file, line, field and reason, up to the cap', () => {
    const aggregator = new SummaryAggregator();
    aggregator.file = 'a.ndjson';
    aggregator.malformed({ line: 3, offset: 40, field: 'step', reason: 'not an integer' });
    aggregator.file = 'b.ndjson';
    for (let line = 1; line <= 10; line++)
      aggregator.malformed({ line, offset: line * 10, field: 'ts', reason: 'missing' });
    const { malformedReports } = aggregator.toSummary();
    expect(malformedReports).toHaveLength(5);
    expect(malformedReports[0]).toEqual({
      file: 'a.ndjson',
      line: 3,
      field: 'step',
      reason: 'not an integer',
    });
    expect(malformedReports[4]).toEqual({ file: 'b.ndjson', line: 4, field: 'ts', reason: 'missing' });
  });
});
