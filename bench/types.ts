/**
 * One line of the `npm run bench` table: our figure beside a baseline measured in the same run.
 * `ratio` is oriented so that > 1 means we are better than the baseline.
 */
export interface BenchResult {
  /** What is measured, e.g. "NDJSON log() 5 scalars, end to end". */
  figure: string;
  unit: string;
  ours: number;
  /** The baseline measured in this run; undefined when it could not be measured here. */
  baseline: number | undefined;
  /** Names the baseline, e.g. "pino (sync destination)". */
  baselineName: string;
  /** undefined when there is no baseline figure, or the goal is absolute and a ratio would mislead. */
  ratio: number | undefined;
  /** The goal in words, e.g. ">= 1x pino"; for a ceiling or context row, says it is informational. */
  goal: string;
  /**
   * Whether the goal was met in this run; undefined for rows that carry no verdict: ceilings,
   * informational rows, and goals whose baseline was not measured.
   */
  met: boolean | undefined;
}

export interface BenchOptions {
  /** Small inputs so the whole table runs in under a minute. */
  quick: boolean;
  /** Scratch directory for files the benchmark writes. */
  tmpDir: string;
}

export type Bench = (options: BenchOptions) => Promise<BenchResult[]>;
