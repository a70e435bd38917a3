/**
 * Rebuilds StepRows from the gauge data points the StepProducer emitted, for the file exporters.
 * Points of one row share their attributes object; the sequence number restores logged order
 * across metrics.
 */
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  PHASE_ATTR,
  SEQ_ATTR,
  STEP_ATTR,
  STEP_SCOPE,
  type Phase,
  type Step,
  type StepRow,
} from '../instruments/step-row.js';

interface MutableRow {
  phase: Phase;
  step: Step;
  ts: number;
  names: string[];
  values: number[];
}

/** Several exporters decode the same collection: decode it once. */
const decoded = new WeakMap<ResourceMetrics, StepRow[]>();

export function decodeStepRows(resourceMetrics: ResourceMetrics): StepRow[] {
  let rows = decoded.get(resourceMetrics);
  if (rows === undefined) {
    rows = decode(resourceMetrics);
    decoded.set(resourceMetrics, rows);
  }
  return rows;
}

function decode(resourceMetrics: ResourceMetrics): StepRow[] {
  const bySeq = new Map<number, MutableRow>();
  for (const scopeMetrics of resourceMetrics.scopeMetrics) {
    if (scopeMetrics.scope.name !== STEP_SCOPE) continue;
    for (const metric of scopeMetrics.metrics) {
      const name = metric.descriptor.name;
      for (const point of metric.dataPoints) {
        const attributes = point.attributes;
        const seq = attributes[SEQ_ATTR] as number;
        let row = bySeq.get(seq);
        if (row === undefined) {
          const rawStep = attributes[STEP_ATTR];
          row = {
            phase: attributes[PHASE_ATTR] as Phase,
            step: typeof rawStep === 'string' ? BigInt(rawStep) : (rawStep as number),
            ts: point.endTime[0] + point.endTime[1] / 1e9,
            names: [],
            values: [],
          };
          bySeq.set(seq, row);
        }
        row.names.push(name);
        row.values.push(point.value as number);
      }
    }
  }
  const seqs = [...bySeq.keys()];
  // Metrics are emitted in first-seen order, so rows are nearly sorted; sort only when needed.
  let sorted = true;
  for (let i = 1; i < seqs.length; i++) {
    if ((seqs[i] as number) < (seqs[i - 1] as number)) {
      sorted = false;
      break;
    }
  }
  if (!sorted) seqs.sort((a, b) => a - b);
  return seqs.map((seq) => bySeq.get(seq) as MutableRow);
}

/** Ordinary OTel metrics collected alongside the step rows (histograms, counters). */
export function otherMetrics(resourceMetrics: ResourceMetrics): MetricData[] {
  const result: MetricData[] = [];
  for (const scopeMetrics of resourceMetrics.scopeMetrics) {
    if (scopeMetrics.scope.name === STEP_SCOPE) continue;
    result.push(...scopeMetrics.metrics);
  }
  return result;
}
