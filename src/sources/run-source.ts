/**
 * What every run reader shares: the kinds of input, the run facts a reader learns (name, id,
 * state, config, summary, what it cannot draw), the bad input it reports, and the sink it feeds.
 * The sink is the NDJSON reader's MetricVisitor with its name table, so summarize's aggregator and
 * the dashboard's store take scalars from every kind of run the same way.
 */
import type { MetricVisitor, PhaseId } from '../ndjson/line/metric-visitor.js';
import { PHASE_EVAL, PHASE_TRAIN } from '../ndjson/line/metric-visitor.js';
import type { NameTable } from '../ndjson/line/name-table.js';

export const SOURCE_KINDS = ['ndjson', 'tfevents', 'wandb'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** Bad input: which file, where in it, and what was wrong. The rest of the run is still read. */
export interface SourceProblem {
  file: string;
  /** Byte offset of the record (or of the damage) in the file. */
  offset: number;
  /** 1-based number of the record in its file, 0 when the damage is not one record. */
  record: number;
  reason: string;
}

export type RunState = 'running' | 'finished' | 'failed' | 'crashed';

export interface RunInfo {
  kind: Exclude<SourceKind, 'ndjson'>;
  /** The run's name: TensorBoard's (the folder, relative to the input) or W&B's display name. */
  name: string;
  /** W&B's run id. */
  id?: string;
  /**
   * W&B only: finished (exit code 0), failed (another exit code), crashed (no exit record: the
   * writer died, or it is still running; a live reader cannot tell until the exit record comes).
   */
  state?: RunState;
  exitCode?: number;
  config?: Record<string, unknown>;
  summary?: Record<string, unknown>;
  /** Tags or keys that are logged but not drawn, with what they hold (histogram, text, string…). */
  notShown: Map<string, string>;
}

/** Where a run reader puts what it reads. */
export interface RunSink {
  visitor: MetricVisitor;
  /** The visitor's name table: the reader interns metric names into it. */
  names: NameTable;
  /** The run's id in the visitor's run table (summarize splits reports by it). */
  run: number;
  problem(problem: SourceProblem): void;
  /** Forget every scalar of this run given so far: the reader reads the run again (see restart-plan.ts). */
  reset(): void;
}

/** The one interface the dashboard polls, beside its NDJSON stream readers. */
export interface LiveRunReader {
  readonly info: RunInfo;
  /** Reads what is new; true when anything was. */
  poll(): Promise<boolean>;
  /**
   * The writer is taken to be gone (a one-shot read ends, or a live run stopped growing): a torn
   * last record is reported, and a W&B run without an exit record is crashed.
   */
  finish(): void;
  close(): Promise<void>;
}

/** How a run is named in reports and charts: W&B runs by display name and id (names repeat), TensorBoard runs by folder. */
export function labelOf(info: RunInfo): string {
  return info.id !== undefined && info.id !== info.name ? `${info.name} (${info.id})` : info.name;
}

/**
 * Phase and metric name of a tag or key: `eval/<name>` is the eval phase's `<name>` (how our own
 * exporters write eval metrics to TensorBoard and W&B), anything else a train metric.
 */
export function phaseOf(tag: string): { phase: PhaseId; name: string } {
  return tag.startsWith('eval/') && tag.length > 5
    ? { phase: PHASE_EVAL, name: tag.slice(5) }
    : { phase: PHASE_TRAIN, name: tag };
}
