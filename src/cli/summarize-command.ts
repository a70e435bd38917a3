/**
 * `codex-ndjson summarize <file|dir|glob>... [--format F] [--out FILE] [--goal name=min|max]...
 * [--strict] [--compare A B]`. Exit codes: 0 done, 1 malformed lines with --strict, 2 usage.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { Goal } from '../summarize/metric-stats.js';
import { buildScorecard, type Scorecard } from '../summarize/scorecard.js';
import { InputError, resolveInputs } from '../summarize/resolve-inputs.js';
import { summarizeFiles } from '../summarize/summarize-files.js';
import { compareScorecards, renderComparison } from '../summarize/format/compare.js';
import { renderHtml } from '../summarize/format/html.js';
import { renderCsv, renderJson } from '../summarize/format/machine.js';
import { renderMarkdown, renderTable } from '../summarize/format/text.js';
import { formatBytes } from '../summarize/format/values.js';

export const FORMATS = ['table', 'markdown', 'json', 'csv', 'html'] as const;
export type Format = (typeof FORMATS)[number];

export const SUMMARIZE_USAGE = `Usage: codex-ndjson summarize <file|dir|glob>... [options]
       codex-ndjson summarize --compare A B [options]

  --format table|markdown|json|csv|html   output format (default: table)
  --out FILE                              write the output to FILE instead of stdout
  --goal NAME=min|max                     which direction is better for NAME (repeatable)
  --strict                                exit 1 when any line is malformed
  --compare                               two runs (files or dirs) side by side with deltas
  --no-parallel                           do not use a worker thread for large files
`;

export interface SummarizeArgs {
  inputs: string[];
  format: Format;
  out: string | undefined;
  goals: Map<string, Goal>;
  strict: boolean;
  compare: boolean;
  parallel: boolean;
}

export type ParsedSummarizeArgs =
  { ok: true; args: SummarizeArgs } | { ok: false; message: string } | { ok: 'help' };

export function parseSummarizeArgs(argv: readonly string[]): ParsedSummarizeArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        out: { type: 'string' },
        goal: { type: 'string', multiple: true },
        strict: { type: 'boolean' },
        compare: { type: 'boolean' },
        'no-parallel': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    if (error instanceof TypeError) return { ok: false, message: error.message };
    throw error;
  }
  const { values, positionals } = parsed;
  if (values.help) return { ok: 'help' };
  const format = (values.format ?? 'table') as Format;
  if (!FORMATS.includes(format))
    return { ok: false, message: `--format must be one of ${FORMATS.join(', ')}, got "${values.format}"` };
  const goals = new Map<string, Goal>();
  for (const goal of values.goal ?? []) {
    const match = /^(.+)=(min|max)$/.exec(goal);
    if (!match) return { ok: false, message: `--goal takes NAME=min or NAME=max, got "${goal}"` };
    goals.set(match[1] as string, match[2] as Goal);
  }
  if (positionals.length === 0)
    return { ok: false, message: 'give at least one NDJSON file, directory or glob' };
  if (values.compare && positionals.length !== 2)
    return { ok: false, message: `--compare takes exactly two runs (A B), got ${positionals.length}` };
  if (values.compare && (format === 'json' || format === 'csv' || format === 'html')) {
    return { ok: false, message: '--compare prints a table or markdown (use --format table or markdown)' };
  }
  return {
    ok: true,
    args: {
      inputs: positionals,
      format,
      out: values.out,
      goals,
      strict: values.strict ?? false,
      compare: values.compare ?? false,
      parallel: !values['no-parallel'],
    },
  };
}

export interface SummarizeIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Progress goes to stderr only when it is a terminal. */
  isTTY: boolean;
}

function render(card: Scorecard, format: Format): string {
  switch (format) {
    case 'table':
      return renderTable(card);
    case 'markdown':
      return renderMarkdown(card);
    case 'json':
      return renderJson(card);
    case 'csv':
      return renderCsv(card);
    case 'html':
      return renderHtml(card);
  }
}

function progress(io: SummarizeIo, total: number): { onBytes: (n: number) => void; done: () => void } {
  if (!io.isTTY) return { onBytes: () => undefined, done: () => undefined };
  const start = Date.now();
  let read = 0;
  let shown = 0;
  return {
    onBytes: (bytes) => {
      read += bytes;
      const now = Date.now();
      if (now - shown < 250) return;
      shown = now;
      const rate = read / Math.max(0.001, (now - start) / 1000);
      const eta = total > read ? (total - read) / rate : 0;
      io.stderr.write(
        `\r${formatBytes(read)} / ${formatBytes(total)}  ${formatBytes(rate)}/s  ETA ${eta.toFixed(0)} s   `,
      );
    },
    done: () => io.stderr.write('\r\x1b[K'),
  };
}

async function summarizeInputs(inputs: string[], args: SummarizeArgs, io: SummarizeIo) {
  const files = resolveInputs(inputs);
  const total = files.reduce((sum, file) => sum + fs.statSync(file).size, 0);
  const meter = progress(io, total);
  const summary = await summarizeFiles(files, { parallel: args.parallel, onBytes: meter.onBytes });
  meter.done();
  return summary;
}

export async function summarizeCommand(argv: string[], io: SummarizeIo): Promise<number> {
  const parsed = parseSummarizeArgs(argv);
  if (parsed.ok === 'help') {
    io.stdout.write(SUMMARIZE_USAGE);
    return 0;
  }
  if (!parsed.ok) {
    io.stderr.write(`codex-ndjson summarize: ${parsed.message}\n\n${SUMMARIZE_USAGE}`);
    return 2;
  }
  const { args } = parsed;
  let output: string;
  let malformed = 0;
  try {
    if (args.compare) {
      const [a, b] = args.inputs as [string, string];
      const sa = await summarizeInputs([a], args, io);
      const sb = await summarizeInputs([b], args, io);
      malformed = sa.malformed + sb.malformed;
      const rows = compareScorecards(buildScorecard(sa, args.goals), buildScorecard(sb, args.goals));
      output = renderComparison(rows, args.format === 'markdown' ? 'markdown' : 'table', [a, b]);
    } else {
      const summary = await summarizeInputs(args.inputs, args, io);
      malformed = summary.malformed;
      output = render(buildScorecard(summary, args.goals), args.format);
      for (const example of summary.malformedExamples)
        io.stderr.write(`malformed ${example.file}:${example.line}: ${example.reason}\n`);
      if (summary.malformed > summary.malformedExamples.length) {
        io.stderr.write(`... ${summary.malformed - summary.malformedExamples.length} more malformed lines\n`);
      }
    }
  } catch (error) {
    if (error instanceof InputError) {
      io.stderr.write(`codex-ndjson summarize: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (args.out === undefined) io.stdout.write(output);
  else fs.writeFileSync(args.out, output);
  if (args.strict && malformed > 0) {
    io.stderr.write(`codex-ndjson summarize: ${malformed} malformed line(s) (--strict)\n`);
    return 1;
  }
  return 0;
}
