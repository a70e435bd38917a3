/**
 * Pure argument parsing for `codex-telemetry`: tests call it without spawning a process. Usage
 * errors are returned, not thrown, so the bin prints them to stderr and exits 2. Flags are read by
 * the parser both CLIs share (command-line/parse-flags.ts), over the option table.
 */
import type { TrainConfig } from '../config/train-config.js';
import { UsageError } from '../errors.js';
import { closest } from '../suggest.js';
import { parseFlags } from '../command-line/parse-flags.js';
import {
  COMMAND_DEFAULTS,
  OPTION_TABLE,
  optionsOf,
  type CommandSettings,
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
        if (parsed === 'version') return { command: 'version' };
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
        if (parsed === 'version') return { command: 'version' };
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
  const usage = commandUsage('wandb');
  const [sub, ...args] = rest;
  if (sub === undefined) throw new UsageError('wandb needs a subcommand: wandb ls [DIR]', usage);
  if (sub.startsWith('-')) {
    const flags = parseFlags([sub], [], { usage });
    if (flags.help) return { command: 'help', text: usage };
    return { command: 'version' };
  }
  if (sub !== 'ls') {
    const hint = closest(sub, ['ls']);
    throw new UsageError(
      `unknown wandb subcommand "${sub}"${hint ? `; did you mean "${hint}"?` : ''}`,
      usage,
    );
  }
  const flags = parseFlags(args, [], { usage });
  if (flags.help) return { command: 'help', text: usage };
  if (flags.version) return { command: 'version' };
  if (flags.positionals.length > 1) throw new UsageError('wandb ls takes at most one directory', usage);
  return { command: 'wandb-ls', dir: flags.positionals[0] };
}

function parseSinkArgs(
  cmd: SinkCommand,
  args: readonly string[],
): { options: SinkOptions; positionals: string[] } | 'help' | 'version' {
  const own = optionsOf(cmd);
  const usage = commandUsage(cmd);
  const flags = parseFlags(
    args,
    own.map((spec) => ({ ...spec, negatable: spec.kind === 'boolean' })),
    { usage, unknownFlag: (name) => elsewhere(cmd, name) },
  );
  if (flags.help) return 'help';
  if (flags.version) return 'version';
  const options: SinkOptions = { ...COMMAND_DEFAULTS, config: {} };
  for (const spec of own) {
    const value = flags.values.get(spec.flag);
    if (value === undefined) continue;
    if (spec.target === 'config') (options.config as Record<string, unknown>)[spec.key] = value;
    else (options as unknown as Record<string, unknown>)[spec.key] = value;
  }
  if (options.dashboard && options.config.prometheus === false) {
    throw new UsageError('--dashboard is served by the /metrics server: drop --no-prometheus', usage);
  }
  return { options, positionals: flags.positionals };
}

/** An option of another sink command is named as such, rather than called unknown. */
function elsewhere(cmd: SinkCommand, name: string): string | undefined {
  const spec = OPTION_TABLE.find((s) => s.flag === name || `no-${s.flag}` === name);
  return spec === undefined
    ? undefined
    : `--${name} is an option of ${spec.commands.join('/')}, not of ${cmd}`;
}
