/**
 * Rebuilds StepRows from the gauge data points the StepProducer emitted, for the file exporters.
 * Points of one row share their attributes object; the sequence number restores logged order
 * across metrics.
 */
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { rowsOf } from '../instruments/step-producer.js';
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
  const scopes = resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name === STEP_SCOPE);
  // Our own producer's collections carry their rows: no need to rebuild them from the points.
  if (scopes.length === 1) {
    const rows = rowsOf(scopes[0] as object);
    if (rows) return rows;
  }
  // Sequence numbers of one collection are contiguous: index rows by (seq - min) in an array,
  // which keeps them in logged order without a sort or a hash map.
  let min = Infinity;
  let max = -Infinity;
  for (const scopeMetrics of scopes) {
    for (const metric of scopeMetrics.metrics) {
      for (const point of metric.dataPoints) {
        const seq = point.attributes[SEQ_ATTR] as number;
        if (seq < min) min = seq;
        if (seq > max) max = seq;
      }
    }
  }
  if (min === Infinity) return [];
  const rows = new Array<MutableRow | undefined>(max - min + 1);
  for (const scopeMetrics of scopes) {
    for (const metric of scopeMetrics.metrics) {
      const name = metric.descriptor.name;
      for (const point of metric.dataPoints) {
        const attributes = point.attributes;
        const index = (attributes[SEQ_ATTR] as number) - min;
        let row = rows[index];
        if (row === undefined) {
          const rawStep = attributes[STEP_ATTR];
          row = {
            phase: attributes[PHASE_ATTR] as Phase,
            step: typeof rawStep === 'string' ? BigInt(rawStep) : (rawStep as number),
            ts: point.endTime[0] + point.endTime[1] / 1e9,
            names: [],
            values: [],
          };
          rows[index] = row;
        }
        row.names.push(name);
        row.values.push(point.value as number);
      }
    }
  }
  return rows.filter((row): row is MutableRow => row !== undefined);
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
