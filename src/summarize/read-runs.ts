/**
 * Reads TensorBoard and W&B runs into RunSummaries, each through its run reader into a fresh
 * SummaryAggregator: one report per run, as NDJSON runs get. Bad input found on the way is counted
 * and reported as malformed, with file and byte offset.
 */
import fs from 'node:fs';
import { errnoCode } from '../errors.js';
import type { RunSpec } from '../sources/discover-sources.js';
import { labelOf, type LiveRunReader, type RunInfo, type RunSink } from '../sources/run-source.js';
import { TfeventsRunReader } from '../sources/tfevents/tfevents-run-reader.js';
import { WandbRunReader } from '../sources/wandb/wandb-run-reader.js';
import { SummaryAggregator } from './aggregator.js';
import type { RunSummary, SourceFacts } from './summary-types.js';

type OnceReader = LiveRunReader & {
  finish(): void;
  readonly files: readonly string[];
  readonly records: number;
};

/** Reads one run once, to its end. */
export async function readRun(spec: RunSpec): Promise<RunSummary> {
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
  const reader: OnceReader =
    spec.kind === 'tfevents'
      ? new TfeventsRunReader({ path: spec.path, name: spec.name, sink })
      : new WandbRunReader({ path: spec.path, name: spec.name, sink });
  await reader.poll();
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
