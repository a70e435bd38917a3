/**
 * The options of `demo`, `run` and `tail`, as one table: the output flags come from the config
 * field table (config/fields.ts), the rest are each command's own. Parsing, per-command help and
 * "did you mean" suggestions all read this table, so a new flag is one entry.
 */
import { CONFIG_FIELDS } from '../config/fields.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  MAX_LINE_BYTES_ENV,
  MAX_MAX_LINE_BYTES,
  MIN_MAX_LINE_BYTES,
} from '../ndjson/line/max-line.js';

export type SinkCommand = 'demo' | 'run' | 'tail';
export const SINK_COMMANDS: readonly SinkCommand[] = ['demo', 'run', 'tail'];

export type OptionKind = 'string' | 'boolean' | 'number' | 'integer';

export interface OptionSpec {
  /** Long flag without dashes; booleans also accept `--no-<flag>`. */
  readonly flag: string;
  readonly kind: OptionKind;
  /** Where the value lands: a TrainConfig field (`config`) or a command setting (`command`). */
  readonly target: 'config' | 'command';
  /** TrainConfig field name, or the CommandSettings key. */
  readonly key: string;
  readonly min?: number;
  readonly max?: number;
  readonly commands: readonly SinkCommand[];
  readonly valueName?: string;
  readonly doc: string;
}

/** Settings of the commands themselves (not TrainConfig fields), with their defaults. */
export interface CommandSettings {
  steps: number;
  evalEvery: number;
  checkpointEvery: number;
  stepDelayMs: number;
  serveSeconds: number;
  captureOutput: boolean;
  fromStart: boolean;
  follow: boolean;
  /** Seconds `run` waits for the trainer's first row before it warns (0 = never warn). */
  noRowWarnSeconds: number;
  /** Seconds between SIGTERM and SIGKILL when `run` has to stop the trainer. */
  killGraceSeconds: number;
  /** Also serve the live dashboard under / on the /metrics server. */
  dashboard: boolean;
  /** The longest NDJSON line the bridge reads; undefined: CODEX_MAX_LINE_BYTES, else 1 MiB. */
  maxLineBytes: number | undefined;
}

export const COMMAND_DEFAULTS: Readonly<CommandSettings> = {
  steps: 300,
  evalEvery: 50,
  checkpointEvery: 100,
  stepDelayMs: 10,
  serveSeconds: 0,
  captureOutput: false,
  fromStart: false,
  follow: false,
  noRowWarnSeconds: 30,
  killGraceSeconds: 5,
  dashboard: false,
  maxLineBytes: undefined,
};

const FROM_CONFIG: readonly OptionSpec[] = CONFIG_FIELDS.flatMap((field): OptionSpec[] =>
  field.flag === undefined
    ? []
    : [
        {
          flag: field.flag,
          kind: field.kind === 'path' || field.kind === 'object' ? 'string' : field.kind,
          target: 'config',
          key: field.name,
          min: field.min,
          max: field.max,
          commands: SINK_COMMANDS,
          valueName: field.kind === 'path' ? 'DIR' : field.kind === 'string' ? 'TEXT' : 'N',
          doc: `${field.doc}${field.env.length > 0 ? ` (env ${field.env.join(', ')})` : ''}`,
        },
      ],
);

const OWN: readonly OptionSpec[] = [
  command('steps', 'integer', 'steps', ['demo'], 'training steps (default 300)', 1),
  command(
    'eval-every',
    'integer',
    'evalEvery',
    ['demo'],
    'evaluate every N steps (default 50; 0 = never)',
    0,
  ),
  command(
    'checkpoint-every',
    'integer',
    'checkpointEvery',
    ['demo'],
    'save a checkpoint every N steps (default 100; 0 = never)',
    0,
  ),
  command('step-delay-ms', 'number', 'stepDelayMs', ['demo'], 'sleep between steps (default 10)', 0),
  command('serve', 'number', 'serveSeconds', ['demo'], 'keep /metrics up this many seconds after the run', 0),
  command(
    'capture-output',
    'boolean',
    'captureOutput',
    ['run'],
    "also copy the trainer's stdout/stderr to the W&B run's files/output.log",
  ),
  command(
    'kill-grace',
    'number',
    'killGraceSeconds',
    ['run'],
    'seconds between SIGTERM and SIGKILL when the trainer must be stopped (default 5)',
    0,
  ),
  command(
    'first-row-timeout',
    'number',
    'noRowWarnSeconds',
    ['run'],
    'warn once if no row arrives this many seconds after the start (default 30; 0 = never)',
    0,
  ),
  command(
    'dashboard',
    'boolean',
    'dashboard',
    ['demo', 'run', 'tail'],
    'also serve the live dashboard under / on the /metrics server',
  ),
  {
    ...command(
      'max-line-bytes',
      'integer',
      'maxLineBytes',
      ['run', 'tail'],
      `a longer NDJSON line is one malformed line, skipped (default ${DEFAULT_MAX_LINE_BYTES}; env ${MAX_LINE_BYTES_ENV})`,
      MIN_MAX_LINE_BYTES,
    ),
    max: MAX_MAX_LINE_BYTES,
  },
  command('from-start', 'boolean', 'fromStart', ['tail'], 'replay what the files already hold'),
  command('follow', 'boolean', 'follow', ['tail'], 'keep waiting for new lines until SIGINT/SIGTERM'),
];

function command(
  flag: string,
  kind: OptionKind,
  key: keyof CommandSettings,
  commands: readonly SinkCommand[],
  doc: string,
  min?: number,
): OptionSpec {
  return {
    flag,
    kind,
    target: 'command',
    key,
    commands,
    doc,
    min,
    valueName: kind === 'boolean' ? undefined : 'N',
  };
}

/** Every option of demo/run/tail. Append here (e.g. a dashboard flag) and parsing and help follow. */
export const OPTION_TABLE: OptionSpec[] = [...FROM_CONFIG, ...OWN];

export function optionsOf(cmd: SinkCommand): OptionSpec[] {
  return OPTION_TABLE.filter((spec) => spec.commands.includes(cmd));
}

/** Help lines for one command's options, aligned. */
export function optionHelp(cmd: SinkCommand): string {
  const rows = optionsOf(cmd).map((spec) => {
    const left =
      spec.kind === 'boolean'
        ? spec.target === 'config'
          ? `--${spec.flag} / --no-${spec.flag}`
          : `--${spec.flag}`
        : `--${spec.flag} ${spec.valueName ?? 'VALUE'}`;
    return [left, spec.doc] as const;
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, doc]) => `  ${left.padEnd(width)}${doc}`).join('\n');
}
