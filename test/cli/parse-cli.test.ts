/** `parseCli` without spawning: conventions of argument handling, one behaviour per test. */
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/parse-cli.js';
import { OPTION_TABLE } from '../../src/cli/options.js';
import { CONFIG_FIELDS } from '../../src/config/fields.js';

function usageError(argv: string[]): string {
  const parsed = parseCli(argv);
  if (parsed.command !== 'usage-error') throw new Error(`expected a usage error, got ${parsed.command}`);
  return parsed.message;
}

describe('parseCli', () => {
  it('prints per-command help for --help and -h on every command and subcommand', () => {
    for (const argv of [
      ['demo', '--help'],
      ['run', '--help'],
      ['run', '-h', '--', 'python3'],
      ['tail', '--help'],
      ['wandb', '--help'],
      ['wandb', 'ls', '--help'],
      ['help', 'run'],
    ]) {
      const parsed = parseCli(argv);
      expect(parsed.command, argv.join(' ')).toBe('help');
      const topic = argv[0] === 'help' ? argv[1] : argv[0];
      if (parsed.command === 'help') expect(parsed.text).toContain(`codex-telemetry ${topic}`);
    }
  });

  it('answers --version and -V', () => {
    expect(parseCli(['--version']).command).toBe('version');
    expect(parseCli(['-V']).command).toBe('version');
  });

  it('answers -V after a command too, not only at the top level', () => {
    for (const argv of [
      ['demo', '-V'],
      ['tail', '--version'],
      ['run', '-V'],
      ['run', '--no-prometheus', '-V', '--', 'python3'],
      ['wandb', '-V'],
      ['wandb', 'ls', '-V'],
    ])
      expect(parseCli(argv).command, argv.join(' ')).toBe('version');
    // After "--", -V belongs to the trainer.
    expect(parseCli(['run', '--', 'python3', '-V'])).toMatchObject({
      command: 'run',
      child: ['python3', '-V'],
    });
  });

  it('treats no arguments as a usage error', () => {
    expect(parseCli([]).command).toBe('usage-error');
  });

  it('names an option meant for another command instead of accepting it (run --steps 5)', () => {
    expect(usageError(['run', '--steps', '5', '--', 'true'])).toBe(
      '--steps is an option of demo, not of run',
    );
    expect(usageError(['demo', '--follow'])).toBe('--follow is an option of tail, not of demo');
  });

  it('suggests the closest option or command for a typo', () => {
    expect(usageError(['demo', '--stpes', '3'])).toBe('unknown option --stpes; did you mean --steps?');
    expect(usageError(['tial', 'x'])).toBe('unknown command "tial"; did you mean "tail"?');
    expect(usageError(['wandb', 'lss'])).toBe('unknown wandb subcommand "lss"; did you mean "ls"?');
  });

  it('rejects --system-metrics-interval -1 with our own range message, not "ambiguous"', () => {
    expect(usageError(['demo', '--system-metrics-interval', '-1'])).toBe(
      '--system-metrics-interval must be a number >= 0, got "-1"',
    );
    expect(usageError(['demo', '--system-metrics-interval=abc'])).toBe(
      '--system-metrics-interval must be a number >= 0, got "abc"',
    );
    expect(usageError(['demo', '--prometheus-port', '70000'])).toBe(
      '--prometheus-port must be a whole number from 0 to 65535, got "70000"',
    );
  });

  it('accepts a value that starts with a dash where it is valid (a run name)', () => {
    const parsed = parseCli(['demo', '--run-name', '-exp-1']);
    expect(parsed.command === 'demo' && parsed.options.config.runName).toBe('-exp-1');
  });

  it('puts only the flags given into the config, so the environment fills the rest', () => {
    const parsed = parseCli(['demo', '--no-tensorboard', '--system-metrics-interval', '0.5', '--out', 'o']);
    expect(parsed.command === 'demo' && parsed.options.config).toEqual({
      tensorboard: false,
      systemMetricsInterval: 0.5,
      outDir: 'o',
    });
  });

  it('requires the trainer command after "--" for run, and files for tail', () => {
    expect(usageError(['run', 'python3', 'train.py'])).toMatch(/run needs the trainer command after "--"/);
    expect(usageError(['tail'])).toBe('tail needs at least one NDJSON file');
    const run = parseCli(['run', '--no-wandb', '--', 'python3', 'train.py', '--steps', '5']);
    expect(run.command === 'run' && run.child).toEqual(['python3', 'train.py', '--steps', '5']);
  });

  it('derives every config flag from the field table', () => {
    const flags = CONFIG_FIELDS.filter((f) => f.flag !== undefined).map((f) => f.flag);
    const fromTable = OPTION_TABLE.filter((o) => o.target === 'config').map((o) => o.flag);
    expect(fromTable).toEqual(flags);
  });
});
