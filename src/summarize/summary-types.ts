/**
 * The summary of a set of NDJSON files as plain data: what workers send back (structured clone
 * keeps bigint steps), what partial summaries merge into, and what every formatter reads. A step
 * field is NaN when the lines had none.
 */
import type { Phase, Step } from '../step.js';
import type { SeriesSample } from './downsample.js';

export interface MetricSummary {
  phase: Phase;
  name: string;
  /** Values read, non-finite ones included. */
  count: number;
  nonFinite: number;
  /** First and last value read (in file order, then line order); may be non-finite. */
  first: number;
  firstStep: Step;
  last: number;
  lastStep: Step;
  /** Over finite values only; the step is that of the first occurrence. */
  min: number;
  minStep: Step;
  max: number;
  maxStep: Step;
  /** Sum of finite values (mean = sum / (count - nonFinite)). */
  sum: number;
  /** Low-order bits lost from `sum` (Neumaier); the exact sum is close to sum + sumCompensation. */
  sumCompensation: number;
  sample: SeriesSample;
}

export interface MalformedReport {
  file: string;
  line: number;
  field: string;
  reason: string;
}

export interface PhaseSteps {
  phase: Phase;
  min: Step;
  max: Step;
}

/** What a summary says of the input it read: shared by RunSummary and the Report made of it. */
export interface InputHeader {
  files: string[];
  lines: number;
  bytes: number;
  malformed: number;
  /** The first few malformed lines, in file order. */
  malformedReports: MalformedReport[];
  runIds: string[];
  /** Unix seconds; NaN when no line had a timestamp. */
  tsMin: number;
  tsMax: number;
  steps: PhaseSteps[];
}

export interface RunSummary extends InputHeader {
  metrics: MetricSummary[];
  /** The same, one summary per run id (lines without a run id form one more), in the order first read. */
  byRun?: RunSummary[];
  /** Rank of the stream, from a `*.rankN.ndjson` file name (rank N > 0 writes one); rank 0 otherwise. */
  rank?: number;
  /** The same, one summary per rank, when the input holds several. */
  byRank?: RunSummary[];
}

export const MAX_MALFORMED_REPORTS = 5;
