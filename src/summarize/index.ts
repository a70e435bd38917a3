/**
 * `codex-ndjson summarize`: scorecards from NDJSON metric streams. The bin calls
 * `summarizeCommand(argv, io)` and sets the exit code it returns: 0 ok, 1 malformed lines under
 * --strict, an unreadable input, or an input without one valid row; 2 usage error (an input that
 * names no file included).
 */
import fs from 'node:fs';
import type { CommandIo } from '../command-line/command-io.js';
import { usageErrorText } from '../command-line/run-bin.js';
import { packageVersion } from '../command-line/version.js';
import { errnoCode, UsageError, errorText, USAGE_EXIT_CODE } from '../errors.js';
import { compareReports } from './compare.js';
import type { InteractiveCharts } from './format-html.js';
import { discoverSources } from '../sources/discover-sources.js';
import { mergeSummaries } from './merge.js';
import { readRun } from './read-runs.js';
import { parseSummarizeArgs, SUMMARIZE_USAGE, type SummarizeArgs } from './parse-args.js';
import { ProgressLine } from './progress.js';
import { readFiles } from './read-files.js';
import { buildReport, type Report } from './report.js';
import { buildRankView } from './rank-view.js';
import { renderComparisons, renderReports } from './render.js';
import { spoolStreams } from './spool.js';
import { escapeControls } from './safe-text.js';
import { maxLineBytesFromEnv } from '../ndjson/line/max-line.js';
import { refuseLink, REPLACE_NO_FOLLOW } from '../files/no-follow.js';
import type { RunSummary } from './summary-types.js';

export { parseSummarizeArgs, SUMMARIZE_USAGE } from './parse-args.js';
export type { SummarizeArgs } from './parse-args.js';
export type { InteractiveCharts } from './format-html.js';
export { buildReport } from './report.js';
export { readFiles } from './read-files.js';

export type { CommandIo } from '../command-line/command-io.js';

async function summarizeInputs(
  inputs: readonly string[],
  args: SummarizeArgs,
  io: CommandIo,
): Promise<RunSummary> {
  const maxLineBytes = args.maxLineBytes ?? maxLineBytesFromEnv();
  const spooled = await spoolStreams(inputs, io.stdin ?? process.stdin, maxLineBytes);
  const progress = args.progress && io.isTTY ? new ProgressLine(io.stderr) : undefined;
  try {
    const plan = discoverSources(spooled.inputs, args.source);
    const parts: RunSummary[] = [];
    if (plan.ndjson.length > 0) {
      parts.push(
        await readFiles(plan.ndjson, {
          jobs: args.jobs,
          maxLineBytes,
          onProgress: progress ? (done, total) => progress.update(done, total) : undefined,
        }),
      );
    }
    // TensorBoard and W&B runs: one scorecard each, beside the NDJSON runs.
    for (const run of plan.runs) parts.push(await readRun(run));
    const summary = parts.length === 1 ? (parts[0] as RunSummary) : mergeSummaries(parts);
    // Name streams as the user did, not by their temporary copies.
    const named = (file: string): string => spooled.names.get(file) ?? file;
    summary.files = summary.files.map(named);
    summary.malformedReports = summary.malformedReports.map((r) => ({ ...r, file: named(r.file) }));
    return summary;
  } finally {
    progress?.done();
    spooled.cleanup();
  }
}

/** One report per run unless --merge-runs; the input's file facts are shared by every run. */
function reportsOf(summary: RunSummary, args: SummarizeArgs, label: string): Report[] {
  const runs = summary.byRun ?? [];
  // Lines without a run id (plain rows) split nothing by themselves: they join a lone run.
  const identified = runs.filter((run) => run.runIds.length > 0).length;
  if (args.mergeRuns || identified <= 1) return [buildReport(summary, args.goals, label)];
  return runs.map((run) =>
    buildReport(
      // A TensorBoard or W&B run has files of its own; NDJSON runs share their streams' files.
      run.source !== undefined
        ? run
        : {
            ...run,
            files: summary.files,
            lines: summary.lines,
            bytes: summary.bytes,
            malformed: summary.malformed,
            malformedReports: summary.malformedReports,
          },
      args.goals,
      `${label === '' ? '' : `${label}, `}run ${run.runIds[0] ?? '(no run id)'}`,
    ),
  );
}

/** `--out FILE`: replaced in place, never through a symlink. */
function writeOut(file: string, text: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, REPLACE_NO_FOLLOW, 0o644);
  } catch (error) {
    throw refuseLink(file, error);
  }
  try {
    fs.writeFileSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}

function warnMalformed(io: CommandIo, report: Report, strict: boolean): void {
  if (report.malformed === 0) return;
  // Reasons quote the file's bytes: escaped, so a line cannot drive the terminal.
  const lines = report.malformedReports.map((r) =>
    escapeControls(`  ${r.file}:${r.line}: ${r.field}: ${r.reason}`),
  );
  const more = report.malformed - report.malformedReports.length;
  io.stderr.write(
    `codex-ndjson: ${report.malformed} malformed line(s)${report.label === '' ? '' : ` in ${report.label}`}${strict ? ' (--strict)' : ', skipped'}:\n${lines.join('\n')}\n${more > 0 ? `  ... and ${more} more\n` : ''}`,
  );
}

/**
 * An input without one valid row is not a metrics stream (a README, a log): saying "0 rows" and
 * exiting 0 would let a wrong path pass for an empty run.
 */
function noValidRow(io: CommandIo, input: string, read: { lines: number; malformed: number }): number {
  io.stderr.write(
    `codex-ndjson summarize: no valid row in ${input} (${read.lines} lines, ${read.malformed} malformed); give NDJSON metric streams such as .codex/metrics.ndjson\n`,
  );
  return 1;
}

/**
 * `interactive` draws the dashboard's charts into `--format html` pages; the CLI hands it in, so
 * summarize never imports the dashboard (without it, pages keep their SVG charts only).
 */
export async function summarizeCommand(
  argv: string[],
  io: CommandIo,
  interactive?: InteractiveCharts,
): Promise<number> {
  let args: SummarizeArgs;
  try {
    args = parseSummarizeArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(usageErrorText('codex-ndjson summarize', error.message));
    return USAGE_EXIT_CODE;
  }
  if (args.help) {
    io.stdout.write(`${SUMMARIZE_USAGE}\n`);
    return 0;
  }
  if (args.version) {
    io.stdout.write(`codex-ndjson ${packageVersion()}\n`);
    return 0;
  }
  let text: string;
  let malformed: number;
  try {
    if (args.compare !== undefined) {
      const reports: Report[] = [];
      for (const input of args.compare) {
        reports.push(buildReport(await summarizeInputs([input], args, io), args.goals, input));
      }
      for (const report of reports) warnMalformed(io, report, args.strict);
      const empty = reports.find((report) => report.phases.length === 0);
      if (empty !== undefined) return noValidRow(io, empty.label, empty);
      malformed = reports.reduce((sum, r) => sum + r.malformed, 0);
      const base = reports[0] as Report;
      const comparisons = reports.slice(1).map((other) => compareReports(base, other));
      text = renderComparisons(args.format, comparisons, interactive);
    } else {
      const summary = await summarizeInputs(args.inputs, args, io);
      const reports = reportsOf(summary, args, '');
      warnMalformed(io, reports[0] as Report, args.strict);
      if (summary.metrics.length === 0) return noValidRow(io, args.inputs.join(' '), summary);
      malformed = summary.malformed;
      const ranks = summary.byRank !== undefined ? buildRankView(summary.byRank) : undefined;
      text = renderReports(args.format, reports, ranks, interactive);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(usageErrorText('codex-ndjson summarize', error.message));
      return USAGE_EXIT_CODE;
    }
    const code = errnoCode(error);
    if (code === undefined && !(error instanceof Error && /gzip|header|unexpected end/i.test(error.message)))
      throw error;
    io.stderr.write(`codex-ndjson summarize: cannot read input: ${errorText(error)}\n`);
    return 1;
  }
  if (args.out !== undefined) {
    try {
      writeOut(args.out, text);
    } catch (error) {
      if (errnoCode(error) === undefined) throw error;
      io.stderr.write(`codex-ndjson summarize: cannot write ${args.out}: ${errorText(error)}\n`);
      return 1;
    }
  } else io.stdout.write(text);
  return args.strict && malformed > 0 ? 1 : 0;
}
