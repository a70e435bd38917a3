/**
 * The summarize aggregator's state as JSON, so a read that stopped at a known offset of a run can
 * go on later exactly as one read would (read-runs.ts keeps it beside a large TensorBoard or W&B
 * run). JSON has no NaN, ±Infinity, -0 or bigint, and the statistics hold all of them (a min over
 * no finite value is Infinity, a step beyond 2^53 a bigint): such numbers are written as strings.
 */
import type { Step } from '../step.js';
import type { MalformedReport } from './summary-types.js';

/** A number or step as JSON: finite numbers as they are, the rest as text. */
export type JsonNumber = number | string;

export function encodeNumber(value: number | bigint): JsonNumber {
  if (typeof value === 'bigint') return `${value}n`;
  if (Object.is(value, -0)) return '-0';
  return Number.isFinite(value) ? value : String(value);
}

export function decodeNumber(value: JsonNumber): number {
  return typeof value === 'number' ? value : Number(value);
}

export function decodeStep(value: JsonNumber): Step {
  return typeof value === 'string' && value.endsWith('n') ? BigInt(value.slice(0, -1)) : decodeNumber(value);
}

export interface MetricStatsState {
  /** count, nonFinite, first, firstStep, last, lastStep, min, minStep, max, maxStep, sum, sumCompensation. */
  fields: JsonNumber[];
  sample: { steps: JsonNumber[]; values: JsonNumber[]; stride: number; seen: number; capacity: number };
}

export interface RunStatsState {
  run: number;
  /** By `name * 3 + phase`; null where the run has no such metric. */
  stats: Array<MetricStatsState | null>;
  tsMin: JsonNumber;
  tsMax: JsonNumber;
  stepMin: JsonNumber[];
  stepMax: JsonNumber[];
}

export interface AggregatorState {
  /** The name tables, in id order. */
  names: string[];
  runs: string[];
  byRun: RunStatsState[];
  reports: MalformedReport[];
  file: string;
}
