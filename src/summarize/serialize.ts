/** RunSummary across a worker boundary (structured clone keeps data, not classes). */
import { MetricStats } from './metric-stats.js';
import { RunSummary } from './run-summary.js';

export interface SerializedSummary {
  files: string[];
  lines: number;
  bytes: number;
  malformed: number;
  malformedExamples: RunSummary['malformedExamples'];
  runIds: string[];
  tsMin: number;
  tsMax: number;
  stepMin: RunSummary['stepMin'];
  stepMax: RunSummary['stepMax'];
  metrics: Array<[string, Record<string, unknown>]>;
}

export function serializeSummary(summary: RunSummary): SerializedSummary {
  return {
    files: summary.files,
    lines: summary.lines,
    bytes: summary.bytes,
    malformed: summary.malformed,
    malformedExamples: summary.malformedExamples,
    runIds: [...summary.runIds],
    tsMin: summary.tsMin,
    tsMax: summary.tsMax,
    stepMin: summary.stepMin,
    stepMax: summary.stepMax,
    metrics: [...summary.metrics].map(([key, stats]) => {
      const { steps, values } = stats.points();
      return [key, { ...stats, steps, values }];
    }),
  };
}

export function reviveSummary(data: SerializedSummary): RunSummary {
  const summary = new RunSummary();
  summary.files.push(...data.files);
  summary.lines = data.lines;
  summary.bytes = data.bytes;
  summary.malformed = data.malformed;
  summary.malformedExamples.push(...data.malformedExamples);
  for (const id of data.runIds) summary.runIds.add(id);
  summary.tsMin = data.tsMin;
  summary.tsMax = data.tsMax;
  summary.stepMin = data.stepMin;
  summary.stepMax = data.stepMax;
  for (const [key, fields] of data.metrics) {
    const stats = new MetricStats();
    const { steps, values, ...rest } = fields as { steps: number[]; values: number[] } & Record<
      string,
      unknown
    >;
    for (const [field, value] of Object.entries(rest)) {
      if (!['stride', 'pendingCount', 'pendingStep', 'pendingSum'].includes(field))
        (stats as unknown as Record<string, unknown>)[field] = value;
    }
    stats.steps = steps;
    stats.values = values;
    summary.metrics.set(key, stats);
  }
  return summary;
}
