/**
 * `codex-ndjson summarize`: scorecards from NDJSON metric streams. The bin calls
 * `summarizeCommand(argv, io)` and sets the exit code it returns: 0 ok, 1 malformed lines under
 * --strict (or an unreadable input), 2 usage error.
 */
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { errnoCode } from '../../errors.js';
import { compareReports } from './compare.js';
import { formatComparisonCsv, formatReportCsv } from './format-csv.js';
import { formatComparisonHtml, formatReportHtml } from './format-html.js';
import { formatComparisonJson, formatReportJson } from './format-json.js';
import { formatComparisonText, formatReportText } from './format-table.js';
import { resolveInputs } from './inputs.js';
import {
  parseSummarizeArgs,
  SUMMARIZE_USAGE,
  UsageError,
  type Format,
  type SummarizeArgs,
} from './parse-args.js';
import { ProgressLine } from './progress.js';
import { readFiles } from './read-files.js';
import { buildReport, type Report } from './report.js';

export { parseSummarizeArgs, SUMMARIZE_USAGE, UsageError } from './parse-args.js';
export type { SummarizeArgs } from './parse-args.js';
export { buildReport } from './report.js';
export { readFiles } from './read-files.js';

export interface CommandIo {
  stdout: Writable;
  stderr: Writable;
  /** Read for the input `-` (default: process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Whether stderr is a terminal: progress is drawn only then. */
  isTTY: boolean;
}

async function summarizeInputs(
  inputs: readonly string[],
  args: SummarizeArgs,
  io: CommandIo,
  label: string,
): Promise<Report> {
  const files = resolveInputs(inputs);
  const progress = args.progress && io.isTTY ? new ProgressLine(io.stderr) : undefined;
  try {
    const summary = await readFiles(files, {
      jobs: args.jobs,
      onProgress: progress ? (done, total) => progress.update(done, total) : undefined,
    });
    return buildReport(summary, args.goals, label);
  } finally {
    progress?.done();
  }
}

function render(format: Format, report: Report): string {
  switch (format) {
    case 'table':
    case 'markdown':
      return formatReportText(report, format);
    case 'json':
      return formatReportJson(report);
    case 'csv':
      return formatReportCsv(report);
    case 'html':
      return formatReportHtml(report);
  }
}

function warnMalformed(io: CommandIo, report: Report, strict: boolean): void {
  if (report.malformed === 0) return;
  const lines = report.malformedReports.map((r) => `  ${r.file}:${r.line}: ${r.field}: ${r.reason}`);
  const more = report.malformed - report.malformedReports.length;
  io.stderr.write(
    `codex-ndjson: ${report.malformed} malformed line(s)${report.label === '' ? '' : ` in ${report.label}`}${strict ? ' (--strict)' : ', skipped'}:\n${lines.join('\n')}\n${more > 0 ? `  ... and ${more} more\n` : ''}`,
  );
}

export async function summarizeCommand(argv: string[], io: CommandIo): Promise<number> {
  let args: SummarizeArgs;
  try {
    args = parseSummarizeArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`codex-ndjson summarize: ${error.message}\n${SUMMARIZE_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(`${SUMMARIZE_USAGE}\n`);
    return 0;
  }
  let text: string;
  let malformed: number;
  try {
    if (args.compare !== undefined) {
      const [a, b] = args.compare;
      const reportA = await summarizeInputs([a], args, io, a);
      const reportB = await summarizeInputs([b], args, io, b);
      const comparison = compareReports(reportA, reportB);
      warnMalformed(io, reportA, args.strict);
      warnMalformed(io, reportB, args.strict);
      malformed = reportA.malformed + reportB.malformed;
      text =
        args.format === 'json'
          ? formatComparisonJson(comparison)
          : args.format === 'csv'
            ? formatComparisonCsv(comparison)
            : args.format === 'html'
              ? formatComparisonHtml(comparison)
              : formatComparisonText(comparison, args.format);
    } else {
      const report = await summarizeInputs(args.inputs, args, io, '');
      warnMalformed(io, report, args.strict);
      malformed = report.malformed;
      text = render(args.format, report);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`codex-ndjson summarize: ${error.message}\n${SUMMARIZE_USAGE}\n`);
      return 2;
    }
    const code = errnoCode(error);
    if (code === undefined && !(error instanceof Error && /gzip|header|unexpected end/i.test(error.message)))
      throw error;
    io.stderr.write(`codex-ndjson summarize: cannot read input: ${(error as Error).message}\n`);
    return 1;
  }
  if (args.out !== undefined) fs.writeFileSync(args.out, text);
  else io.stdout.write(text);
  return args.strict && malformed > 0 ? 1 : 0;
}
