/** Pure argument parsing for `codex-ndjson summarize`: argv in, options or a UsageError out. */
import { UsageError } from '../errors.js';
import type { Goal } from './direction.js';
import { listFlag, parseFlags, stringFlag, type FlagSpec } from '../command-line/parse-flags.js';
import { SOURCE_KINDS, type SourceKind } from '../sources/run-source.js';
import { parseMaxLineBytes } from '../ndjson/line/max-line.js';

const FLAGS: readonly FlagSpec[] = [
  { flag: 'format', short: 'f', kind: 'string' },
  { flag: 'out', short: 'o', kind: 'string' },
  { flag: 'goal', kind: 'string', multiple: true },
  { flag: 'compare', kind: 'boolean' },
  { flag: 'merge-runs', kind: 'boolean' },
  { flag: 'strict', kind: 'boolean' },
  { flag: 'jobs', short: 'j', kind: 'integer', min: 1, max: 256 },
  { flag: 'progress', kind: 'boolean', negatable: true },
  { flag: 'source', kind: 'string' },
  { flag: 'max-line-bytes', kind: 'string' },
];

export const FORMATS = ['table', 'markdown', 'json', 'csv', 'html'] as const;
export type Format = (typeof FORMATS)[number];

export const SUMMARIZE_USAGE = `usage: codex-ndjson summarize <file|dir|glob|->... [options]
       codex-ndjson summarize --compare <A> <B> [<C>...] [options]
  inputs: .ndjson / .ndjson.gz files (an active file brings its rotated segments), TensorBoard
          event files (events.out.tfevents.*), W&B runs (offline-run-* folders or their run-*.wandb),
          directories (every NDJSON stream, TensorBoard run folder and W&B run inside), globs, or -
          for standard input (NDJSON)
  Several runs (run ids) in the input give one scorecard each; ranks (*.rankN.ndjson) add a
  per-rank view: min, median and max across ranks per metric, and the slowest rank by step time.
  --format, -f table|markdown|json|csv|html   output format (default table)
  --out, -o FILE          write the report to FILE instead of stdout
  --goal NAME=min|max     which way is better for NAME (repeatable); overrides the name-based guess
  --compare A B [C...]    runs (each a file, dir or glob) side by side with deltas against A
  --merge-runs            one scorecard for every run in the input
  --strict                exit 1 if any line is malformed
  --jobs, -j N            worker threads for large files (default: cores)
  --max-line-bytes N      a longer line is one malformed line, skipped (default 1048576;
                          env CODEX_MAX_LINE_BYTES)
  --no-progress           no progress line on stderr
  --source ndjson|tfevents|wandb   read only that kind of input (an explicit file: with that reader)
  -h, --help              show this help
  -V, --version           print the version`;

export interface SummarizeArgs {
  inputs: string[];
  /** With --compare: each input is one run, compared against the first. */
  compare: string[] | undefined;
  mergeRuns: boolean;
  format: Format;
  out: string | undefined;
  goals: Map<string, Goal>;
  strict: boolean;
  jobs: number | undefined;
  /** Undefined: CODEX_MAX_LINE_BYTES, else 1 MiB. */
  maxLineBytes: number | undefined;
  progress: boolean;
  /** Only this kind of input; undefined: every kind found. */
  source: SourceKind | undefined;
  help: boolean;
  version: boolean;
}

export function parseSummarizeArgs(argv: readonly string[]): SummarizeArgs {
  const flags = parseFlags(argv, FLAGS);
  const format = stringFlag(flags, 'format') ?? 'table';
  const goals = new Map<string, Goal>();
  for (const spec of listFlag(flags, 'goal')) {
    const match = /^(.+)=(min|max)$/.exec(spec);
    if (!match) throw new UsageError(`--goal ${spec} must look like NAME=min or NAME=max`);
    goals.set(match[1] as string, match[2] as Goal);
  }
  const args: SummarizeArgs = {
    inputs: flags.positionals,
    compare: undefined,
    mergeRuns: flags.values.get('merge-runs') === true,
    format: format as Format,
    out: stringFlag(flags, 'out'),
    goals,
    strict: flags.values.get('strict') === true,
    jobs: flags.values.get('jobs') as number | undefined,
    progress: flags.values.get('progress') !== false,
    source: undefined,
    maxLineBytes: undefined,
    help: flags.help,
    version: flags.version,
  };
  if (args.help || args.version) return args;
  if (!(FORMATS as readonly string[]).includes(format))
    throw new UsageError(`--format ${format} is not one of ${FORMATS.join(', ')}`);
  const maxLine = stringFlag(flags, 'max-line-bytes');
  if (maxLine !== undefined) args.maxLineBytes = parseMaxLineBytes(maxLine, '--max-line-bytes');
  const source = stringFlag(flags, 'source');
  if (source !== undefined) {
    if (!(SOURCE_KINDS as readonly string[]).includes(source))
      throw new UsageError(`--source ${source} is not one of ${SOURCE_KINDS.join(', ')}`);
    args.source = source as SourceKind;
  }
  if (flags.values.get('compare') === true) {
    if (args.inputs.length < 2)
      throw new UsageError(
        `--compare needs at least two runs (got ${args.inputs.length}): --compare A B [C...]`,
      );
    args.compare = args.inputs;
    return args;
  }
  if (args.inputs.length === 0)
    throw new UsageError(
      'no input: pass NDJSON files, TensorBoard event files, W&B runs, directories, globs or -',
    );
  return args;
}
