/**
 * Reads TensorBoard and W&B runs into RunSummaries, each through its run reader into a fresh
 * SummaryAggregator: one report per run, as NDJSON runs get. Bad input found on the way is counted
 * and reported as malformed, with file and byte offset.
 *
 * A run of SUMMARY_INDEX_MIN_BYTES or more gets summarize's own index beside it (`.summary`, the
 * foreign-run index of ../sources/source-index.ts): the reader's resume point with the aggregator's
 * state there. The run index's buckets cannot give every figure a report prints (docs/run-index.md),
 * the aggregator's state can: the next summarize takes it up and reads only the bytes past it, and
 * prints what a full read prints.
 */
import fs from 'node:fs';
import { errnoCode, errorText } from '../errors.js';
import type { RunSpec } from '../sources/discover-sources.js';
import { openIndexedRun } from '../sources/indexed-run.js';
import { labelOf, type LiveRunReader, type RunInfo, type RunSink } from '../sources/run-source.js';
import type { AggregatorState } from './aggregator-state.js';
import { SummaryAggregator } from './aggregator.js';
import type { RunSummary, SourceFacts } from './summary-types.js';

/** Runs this large get summarize's index: below it, reading costs less than 0.2 s (as the dashboard's bound). */
export const SUMMARY_INDEX_MIN_BYTES = 16 << 20;
const VARIANT = '.summary';

export interface ReadRunOptions {
  /** Runs smaller than this are read in full and get no index. */
  indexMinBytes?: number;
  env?: NodeJS.ProcessEnv;
  /** Told when an index cannot be kept (the run is then read in full next time). */
  onWarning?: (message: string) => void;
}

/** What summarize's index holds beside the reader's resume point. */
interface SummaryState {
  /** Not `summary`: a W&B reader's state has one (the run's own). */
  summarize: { aggregator: AggregatorState; malformed: number };
}

type OnceReader = LiveRunReader & {
  finish(): void;
  readonly files: readonly string[];
  readonly records: number;
};

/** Reads one run once, to its end (from summarize's index when one still describes it). */
export async function readRun(spec: RunSpec, options: ReadRunOptions = {}): Promise<RunSummary> {
  const aggregator = new SummaryAggregator();
  let malformed = 0;
  const sink: RunSink = {
    visitor: aggregator,
    names: aggregator.tables.names,
    // The run's label is known once its first records are read (a W&B run's id): renamed below.
    run: aggregator.tables.runs.idOfString(spec.path),
    problem: (problem) => {
      malformed++;
      aggregator.file = problem.file;
      aggregator.malformed({
        line: problem.record,
        offset: problem.offset,
        field: `byte offset ${problem.offset}`,
        reason: problem.reason,
      });
    },
    reset: () => aggregator.reset(),
  };
  const run = openIndexedRun(spec, sink);
  const reader = run.reader as OnceReader;
  const runFiles = run.files();
  const indexed =
    runFiles.reduce((sum, file) => sum + sizeOf(file), 0) >=
    (options.indexMinBytes ?? SUMMARY_INDEX_MIN_BYTES);
  const resumed = indexed ? run.resumeFromIndex(runFiles, options.env, VARIANT) : undefined;
  if (resumed !== undefined) {
    const saved = (resumed.state as Partial<SummaryState>).summarize as SummaryState['summarize'];
    aggregator.restore(saved.aggregator);
    malformed = saved.malformed;
  }
  await reader.poll();
  // Kept before `finish`: what it reports (a torn last record) it reports again after the index.
  if (indexed && (resumed === undefined || run.bytesRead > 0)) keepIndex(run, aggregator, malformed, options);
  reader.finish();
  await reader.close();
  const summary = aggregator.toSummary();
  const label = labelOf(reader.info);
  const source = factsOf(reader.info);
  const files = {
    files: [...reader.files],
    // Records read, in the place of NDJSON's lines.
    lines: reader.records,
    bytes: reader.files.reduce((sum, file) => sum + sizeOf(file), 0),
    malformed,
    malformedReports: summary.malformedReports,
    runIds: [label],
    source,
  };
  const byRun = summary.byRun ?? [];
  // A run with no scalar still gets its scorecard: its state, config and problems say something.
  const runs = byRun.length === 0 ? [{ ...summary, byRun: undefined }] : byRun;
  return { ...summary, ...files, byRun: runs.map((run) => ({ ...run, ...files })) };
}

function keepIndex(
  run: ReturnType<typeof openIndexedRun>,
  aggregator: SummaryAggregator,
  malformed: number,
  options: ReadRunOptions,
): void {
  const summary: SummaryState = { summarize: { aggregator: aggregator.save(), malformed } };
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`codex-ndjson: ${message}\n`));
  try {
    run.writeIndex({ defs: [], records: new Float64Array(0) }, options.env, warn, VARIANT, summary);
  } catch (error) {
    // The report does not need the index: a run that cannot be indexed is read in full next time.
    if (errnoCode(error) === undefined) throw error;
    warn(
      `cannot keep summarize's index of ${run.files().join(', ')} (${errorText(error)}); it is read in full next time`,
    );
  }
}

function factsOf(info: RunInfo): SourceFacts {
  return {
    kind: info.kind,
    name: info.name,
    ...(info.id === undefined ? {} : { id: info.id }),
    ...(info.state === undefined ? {} : { state: info.state }),
    ...(info.exitCode === undefined ? {} : { exitCode: info.exitCode }),
    ...(info.config === undefined ? {} : { config: info.config }),
    ...(info.summary === undefined ? {} : { summary: info.summary }),
    notShown: [...info.notShown].map(([key, kind]) => ({ key, kind })),
  };
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 0;
    throw error;
  }
}
