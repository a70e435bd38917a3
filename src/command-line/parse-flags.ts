/**
 * The one argument parser of both CLIs (`codex-telemetry`'s commands and `codex-ndjson summarize`),
 * over a table of flags. Pure: argv in, values out, or a UsageError naming the flag.
 *
 * Written over a table rather than `util.parseArgs`, for conventions it lacks: a value may start
 * with a dash (`--system-metrics-interval -1` is then refused by our range check, not called
 * "ambiguous"), numbers are checked against a range with one message shape, an unknown flag gets a
 * "did you mean", and `-h`/`--help` and `-V`/`--version` are answered by every command.
 */
import { UsageError } from '../errors.js';
import { closest } from '../suggest.js';

export type FlagKind = 'string' | 'boolean' | 'number' | 'integer';

export interface FlagSpec {
  /** Long flag without dashes. */
  readonly flag: string;
  readonly kind: FlagKind;
  /** One-letter alias, without the dash. */
  readonly short?: string;
  /** A boolean that also takes `--no-<flag>`. */
  readonly negatable?: boolean;
  /** May be given several times; the values are kept in order. */
  readonly multiple?: boolean;
  readonly min?: number;
  readonly max?: number;
}

export type FlagValue = string | number | boolean | string[];

export interface ParsedFlags {
  /** Values by long flag name, only for flags given (a negated boolean is `false`). */
  values: Map<string, FlagValue>;
  positionals: string[];
  /** `-h` or `--help` was given: the caller prints its usage and ignores the rest. */
  help: boolean;
  /** `-V` or `--version` was given. */
  version: boolean;
}

export interface ParseFlagsOptions {
  /** Usage text carried by the UsageError. */
  usage?: string;
  /** A better message for an unknown long flag (e.g. "an option of another command"). */
  unknownFlag?: (name: string) => string | undefined;
  /** Stop at the first positional: the rest are positionals too (a command and its arguments). */
  stopAtPositional?: boolean;
}

export function parseFlags(
  args: readonly string[],
  specs: readonly FlagSpec[],
  options: ParseFlagsOptions = {},
): ParsedFlags {
  const parsed: ParsedFlags = { values: new Map(), positionals: [], help: false, version: false };
  const fail = (message: string): never => {
    throw new UsageError(message, options.usage);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') parsed.help = true;
    else if (arg === '--version' || arg === '-V') parsed.version = true;
    else if (arg === '--') {
      parsed.positionals.push(...args.slice(i + 1));
      break;
    } else if (!arg.startsWith('-') || arg === '-') {
      if (options.stopAtPositional) {
        parsed.positionals.push(...args.slice(i));
        break;
      }
      parsed.positionals.push(arg);
    } else {
      const long = arg.startsWith('--');
      const eq = long ? arg.indexOf('=') : -1;
      const name = long ? arg.slice(2, eq === -1 ? undefined : eq) : arg.slice(1);
      const inline = eq === -1 ? undefined : arg.slice(eq + 1);
      const negated = long && name.startsWith('no-') ? negatableNamed(specs, name.slice(3)) : undefined;
      const spec = long
        ? (specs.find((s) => s.flag === name) ?? negated)
        : specs.find((s) => s.short === name);
      if (spec === undefined) fail(long ? unknownLong(name, specs, options) : unknownShort(arg, specs));
      const flag = spec as FlagSpec;
      let value: FlagValue;
      if (flag.kind === 'boolean') {
        if (inline !== undefined) fail(`--${name} takes no value (got "${inline}")`);
        value = flag !== negated;
      } else {
        // The next word is the value even when it starts with a dash: `-1` is then refused by range.
        const text = inline ?? args[++i];
        if (text === undefined) fail(`${long ? `--${name}` : arg} needs a value`);
        value = checkValue(flag, text as string, fail);
      }
      if (flag.multiple) {
        const list = (parsed.values.get(flag.flag) as string[] | undefined) ?? [];
        parsed.values.set(flag.flag, [...list, String(value)]);
      } else parsed.values.set(flag.flag, value);
    }
  }
  return parsed;
}

function negatableNamed(specs: readonly FlagSpec[], name: string): FlagSpec | undefined {
  return specs.find((s) => s.kind === 'boolean' && s.negatable === true && s.flag === name);
}

function unknownLong(name: string, specs: readonly FlagSpec[], options: ParseFlagsOptions): string {
  const better = options.unknownFlag?.(name);
  if (better !== undefined) return better;
  const flags = specs.flatMap((s) => (s.negatable ? [s.flag, `no-${s.flag}`] : [s.flag]));
  const hint = closest(name, [...flags, 'help', 'version']);
  return `unknown option --${name}${hint ? `; did you mean --${hint}?` : ''}`;
}

function unknownShort(arg: string, specs: readonly FlagSpec[]): string {
  const shorts = specs.flatMap((s) => (s.short === undefined ? [] : [`-${s.short}`]));
  return `unknown option ${arg}${shorts.length > 0 ? ` (short options: ${[...shorts, '-h', '-V'].join(' ')})` : ''}`;
}

/** Our own range message: the flag, what it takes, and what was given. */
function checkValue(spec: FlagSpec, text: string, fail: (message: string) => never): string | number {
  if (spec.kind === 'string') {
    if (text === '') fail(`--${spec.flag} needs a non-empty value`);
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
    fail(`--${spec.flag} must be ${integer ? 'a whole number' : 'a number'}${range}, got "${text}"`);
  }
  return value;
}

/** The flag's value as a string, when given. */
export function stringFlag(parsed: ParsedFlags, flag: string): string | undefined {
  const value = parsed.values.get(flag);
  return value === undefined ? undefined : String(value);
}

/** Every value of a repeatable flag, in order. */
export function listFlag(parsed: ParsedFlags, flag: string): string[] {
  const value = parsed.values.get(flag);
  return Array.isArray(value) ? value : [];
}
