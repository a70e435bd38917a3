/**
 * One line of the `npm run bench` table: our figure beside a baseline measured in the same run.
 * `ratio` is oriented so that > 1 means we are better than the baseline.
 */
export interface BenchResult {
  /** What is measured, e.g. "NDJSON log() 5 scalars, end to end". */
  figure: string;
  unit: string;
  ours: number;
  baseline: number;
  /** Names the baseline, e.g. "pino (sync destination)". */
  baselineName: string;
  ratio: number;
  /** The goal in words, e.g. ">= 1x pino". */
  goal: string;
  /** Whether the goal was met in this run. */
  met: boolean;
}

export interface BenchOptions {
  /** Small inputs so the whole table runs in under a minute. */
  quick: boolean;
  /** Scratch directory for files the benchmark writes. */
  tmpDir: string;
}

export type Bench = (options: BenchOptions) => Promise<BenchResult[]>;
