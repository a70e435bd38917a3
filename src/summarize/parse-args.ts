/** Pure argument parsing for `codex-ndjson summarize`: argv in, options or a UsageError out. */
import { UsageError } from '../errors.js';
import type { Goal } from './direction.js';
import { closest } from '../suggest.js';
import { parseMaxLineBytes } from '../ndjson/line/max-line.js';

const KNOWN_FLAGS = [
  '--format',
  '--out',
  '--goal',
  '--compare',
  '--merge-runs',
  '--strict',
  '--jobs',
  '--max-line-bytes',
  '--no-progress',
  '--help',
];

export const FORMATS = ['table', 'markdown', 'json', 'csv', 'html'] as const;
export type Format = (typeof FORMATS)[number];

export const SUMMARIZE_USAGE = `usage: codex-ndjson summarize <file|dir|glob|->... [options]
       codex-ndjson summarize --compare <A> <B> [<C>...] [options]
  inputs: .ndjson / .ndjson.gz files (an active file brings its rotated segments), directories
          (every *.ndjson and *.ndjson.gz inside), globs, or - for standard input
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
  --no-progress           no progress line on stderr`;

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
  help: boolean;
}

export function parseSummarizeArgs(argv: readonly string[]): SummarizeArgs {
  const args: SummarizeArgs = {
    inputs: [],
    compare: undefined,
    mergeRuns: false,
    format: 'table',
    out: undefined,
    goals: new Map(),
    strict: false,
    jobs: undefined,
    maxLineBytes: undefined,
    progress: true,
    help: false,
  };
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] as string;
    if (onlyPositional || !raw.startsWith('-') || raw === '-') {
      args.inputs.push(raw);
      continue;
    }
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq === -1 ? raw : raw.slice(0, eq);
    const value = (): string => {
      if (eq !== -1) return raw.slice(eq + 1);
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--':
        onlyPositional = true;
        break;
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '-f':
      case '--format': {
        const format = value();
        if (!(FORMATS as readonly string[]).includes(format))
          throw new UsageError(`--format ${format} is not one of ${FORMATS.join(', ')}`);
        args.format = format as Format;
        break;
      }
      case '-o':
      case '--out':
        args.out = value();
        break;
      case '--goal': {
        const spec = value();
        const match = /^(.+)=(min|max)$/.exec(spec);
        if (!match) throw new UsageError(`--goal ${spec} must look like NAME=min or NAME=max`);
        args.goals.set(match[1] as string, match[2] as Goal);
        break;
      }
      case '--compare':
        args.compare = [];
        break;
      case '--merge-runs':
        args.mergeRuns = true;
        break;
      case '--strict':
        args.strict = true;
        break;
      case '--no-progress':
        args.progress = false;
        break;
      case '-j':
      case '--jobs': {
        const text = value();
        const jobs = Number(text);
        if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256)
          throw new UsageError(`--jobs ${text} must be a whole number from 1 to 256`);
        args.jobs = jobs;
        break;
      }
      case '--max-line-bytes':
        args.maxLineBytes = parseMaxLineBytes(value(), '--max-line-bytes');
        break;
      default: {
        const hint = closest(flag, KNOWN_FLAGS);
        throw new UsageError(`unknown option ${flag}${hint ? `; did you mean ${hint}?` : ''}`);
      }
    }
  }
  if (args.help) return args;
  if (args.compare !== undefined) {
    if (args.inputs.length < 2)
      throw new UsageError(
        `--compare needs at least two runs (got ${args.inputs.length}): --compare A B [C...]`,
      );
    args.compare = args.inputs;
    return args;
  }
  if (args.inputs.length === 0) throw new UsageError('no input: pass NDJSON files, directories, globs or -');
  return args;
}
