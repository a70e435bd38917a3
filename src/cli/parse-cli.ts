/**
 * Pure argument parsing for `codex-telemetry`: tests call it without spawning a process. Usage
 * errors are returned, not thrown, so the bin prints them to stderr and exits 2.
 *
 * Written over our option table rather than `util.parseArgs`, for three conventions it lacks: a
 * value may start with a dash (`--system-metrics-interval -1` is then refused by our range check,
 * not called "ambiguous"), an option of another command is named as such, and an unknown one gets
 * a suggestion.
 */
import type { TrainConfig } from '../config/train-config.js';
import { UsageError } from '../errors.js';
import { closest } from '../suggest.js';
import {
  COMMAND_DEFAULTS,
  OPTION_TABLE,
  optionsOf,
  type CommandSettings,
  type OptionSpec,
  type SinkCommand,
} from './options.js';
import { commandUsage, USAGE } from './usage.js';

const DASHBOARD_HELP =
  'Usage: codex-telemetry dashboard [RUN]... [--port P] [--host H]\n\nRun "codex-telemetry dashboard --help" for its options.\n';

export interface SinkOptions extends CommandSettings {
  /** TrainConfig fields given on the command line (only those given: the environment fills the rest). */
  config: TrainConfig;
}

export type ParsedCli =
  | { command: 'demo'; options: SinkOptions }
  | { command: 'run'; options: SinkOptions; child: string[] }
  | { command: 'tail'; options: SinkOptions; files: string[] }
  | { command: 'manifest'; argv: string[] }
  | { command: 'dashboard'; argv: string[] }
  | { command: 'wandb-ls'; dir: string | undefined }
  | { command: 'help'; text: string }
  | { command: 'version' }
  | { command: 'usage-error'; message: string; usage: string };

export { USAGE } from './usage.js';

const COMMANDS = ['demo', 'run', 'tail', 'manifest', 'wandb', 'dashboard', 'help', 'version'];

export function parseCli(argv: readonly string[]): ParsedCli {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        throw new UsageError('no command given', USAGE);
      case 'help':
      case '--help':
      case '-h':
        return { command: 'help', text: rest[0] === undefined ? USAGE : helpFor(rest[0]) };
      case '--version':
      case '-V':
      case 'version':
        return { command: 'version' };
      case 'demo':
      case 'tail': {
        const parsed = parseSinkArgs(command, rest);
        if (parsed === 'help') return { command: 'help', text: commandUsage(command) };
        if (command === 'demo') {
          if (parsed.positionals.length > 0)
            throw new UsageError(
              `demo takes no arguments, got "${parsed.positionals[0]}"`,
              commandUsage('demo'),
            );
          return { command: 'demo', options: parsed.options };
        }
        if (parsed.positionals.length === 0)
          throw new UsageError('tail needs at least one NDJSON file', commandUsage('tail'));
        return { command: 'tail', options: parsed.options, files: parsed.positionals };
      }
      case 'run': {
        const split = rest.indexOf('--');
        const before = split === -1 ? rest : rest.slice(0, split);
        const parsed = parseSinkArgs('run', before);
        if (parsed === 'help') return { command: 'help', text: commandUsage('run') };
        if (parsed.positionals.length > 0 || split === -1 || split === rest.length - 1) {
          const given = parsed.positionals.length > 0 ? ` (got "${parsed.positionals.join(' ')}")` : '';
          throw new UsageError(
            `run needs the trainer command after "--"${given}, e.g. codex-telemetry run -- python3 train.py`,
            commandUsage('run'),
          );
        }
        return { command: 'run', options: parsed.options, child: rest.slice(split + 1) };
      }
      case 'manifest':
        return { command: 'manifest', argv: rest };
      case 'dashboard':
        return { command: 'dashboard', argv: rest };
      case 'wandb':
        return parseWandb(rest);
      default: {
        const hint = closest(command, COMMANDS);
        throw new UsageError(`unknown command "${command}"${hint ? `; did you mean "${hint}"?` : ''}`, USAGE);
      }
    }
  } catch (error) {
    if (error instanceof UsageError)
      return { command: 'usage-error', message: error.message, usage: error.usage ?? USAGE };
    throw error;
  }
}

function helpFor(topic: string): string {
  if (topic === 'demo' || topic === 'run' || topic === 'tail' || topic === 'manifest' || topic === 'wandb')
    return commandUsage(topic);
  if (topic === 'dashboard') return DASHBOARD_HELP;
  throw new UsageError(
    `no help for "${topic}"; commands: demo, run, tail, manifest, wandb, dashboard`,
    USAGE,
  );
}

function parseWandb(rest: string[]): ParsedCli {
  const [sub, ...args] = rest;
  const usage = commandUsage('wandb');
  if (sub === '--help' || sub === '-h' || sub === undefined) {
    if (sub === undefined) throw new UsageError('wandb needs a subcommand: wandb ls [DIR]', usage);
    return { command: 'help', text: usage };
  }
  if (sub !== 'ls') {
    const hint = closest(sub, ['ls']);
    throw new UsageError(
      `unknown wandb subcommand "${sub}"${hint ? `; did you mean "${hint}"?` : ''}`,
      usage,
    );
  }
  const dirs: string[] = [];
  for (const arg of args) {
    if (arg === '--help' || arg === '-h') return { command: 'help', text: usage };
    if (arg.startsWith('-') && arg !== '-') throw new UsageError(`wandb ls has no option ${arg}`, usage);
    dirs.push(arg);
  }
  if (dirs.length > 1) throw new UsageError('wandb ls takes at most one directory', usage);
  return { command: 'wandb-ls', dir: dirs[0] };
}

function parseSinkArgs(
  cmd: SinkCommand,
  args: readonly string[],
): { options: SinkOptions; positionals: string[] } | 'help' {
  const own = optionsOf(cmd);
  const options: SinkOptions = { ...COMMAND_DEFAULTS, config: {} };
  const positionals: string[] = [];
  const usage = commandUsage(cmd);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`, usage);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const negated = name.startsWith('no-')
      ? own.find((s) => s.kind === 'boolean' && s.flag === name.slice(3))
      : undefined;
    const spec = own.find((s) => s.flag === name) ?? negated;
    if (spec === undefined) throw new UsageError(unknownOption(cmd, name, own), usage);
    let value: string | boolean;
    if (spec.kind === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value (got "${inline}")`, usage);
      value = spec !== negated;
    } else if (inline !== undefined) {
      value = inline;
    } else {
      // The next word is the value even when it starts with a dash: `-1` is then refused by range.
      const next = args[++i];
      if (next === undefined) throw new UsageError(`--${name} needs a value`, usage);
      value = next;
    }
    const checked = typeof value === 'boolean' ? value : checkValue(spec, value, usage);
    if (spec.target === 'config') (options.config as Record<string, unknown>)[spec.key] = checked;
    else (options as unknown as Record<string, unknown>)[spec.key] = checked;
  }
  if (options.dashboard && options.config.prometheus === false) {
    throw new UsageError('--dashboard is served by the /metrics server: drop --no-prometheus', usage);
  }
  return { options, positionals };
}

function unknownOption(cmd: SinkCommand, name: string, own: readonly OptionSpec[]): string {
  const elsewhere = OPTION_TABLE.find((s) => s.flag === name || `no-${s.flag}` === name);
  if (elsewhere) {
    return `--${name} is an option of ${elsewhere.commands.join('/')}, not of ${cmd}`;
  }
  const flags = own.flatMap((s) => (s.kind === 'boolean' ? [s.flag, `no-${s.flag}`] : [s.flag]));
  const hint = closest(name, [...flags, 'help']);
  return `unknown option --${name}${hint ? `; did you mean --${hint}?` : ''}`;
}

/** Our own range message: the flag, what it takes, and what was given. */
function checkValue(spec: OptionSpec, text: string, usage: string): string | number {
  if (spec.kind === 'string') {
    if (text === '') throw new UsageError(`--${spec.flag} needs a non-empty value`, usage);
    return text;
  }
  const integer = spec.kind === 'integer';
  const value = Number(text);
  const shapeOk = integer ? /^-?\d+$/.test(text.trim()) : text.trim() !== '' && Number.isFinite(value);
  const inRange =
    (spec.min === undefined || value >= spec.min) && (spec.max === undefined || value <= spec.max);
  if (!shapeOk || !inRange || (integer && !Number.isSafeInteger(value))) {
    const range =
      spec.max !== undefined
        ? ` from ${spec.min ?? 0} to ${spec.max}`
        : spec.min !== undefined
          ? ` >= ${spec.min}`
          : '';
    throw new UsageError(
      `--${spec.flag} must be ${integer ? 'a whole number' : 'a number'}${range}, got "${text}"`,
      usage,
    );
  }
  return value;
}
