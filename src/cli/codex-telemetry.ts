#!/usr/bin/env node
/** Bin glue for `codex-telemetry`: parse, dispatch, set process.exitCode. */
import { TelemetryError, errorText } from '../errors.js';
import { parseCli } from './parse-cli.js';
import { packageVersion } from './version.js';

const RUN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const COMMANDS_WITH_HELP = new Set(['demo', 'run', 'tail', 'manifest', 'wandb', 'dashboard']);

async function main(argv: string[]): Promise<number> {
  const parsed = parseCli(argv);
  const io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
  switch (parsed.command) {
    case 'help':
      process.stdout.write(parsed.text);
      return 0;
    case 'version':
      process.stdout.write(`codex-telemetry ${packageVersion()}\n`);
      return 0;
    case 'usage-error':
      // No arguments at all: the usage itself is the answer, on stderr since nothing was done.
      if (argv.length === 0) process.stderr.write(parsed.usage);
      else {
        const topic = COMMANDS_WITH_HELP.has(argv[0] as string) ? `${argv[0]} ` : '';
        process.stderr.write(
          `codex-telemetry: ${parsed.message}\nRun "codex-telemetry ${topic}--help" for usage.\n`,
        );
      }
      return 2;
    // Commands load their modules on demand: help and usage errors answer at once.
    case 'demo':
      return (await import('./demo.js')).runDemo(parsed.options, io);
    case 'tail':
      return (await import('./tail-command.js')).runTail(parsed.options, parsed.files, io);
    case 'run': {
      // A SIGTERM that arrives while the modules load is kept, and passed on to the trainer.
      let early: NodeJS.Signals | undefined;
      const keep = (signal: NodeJS.Signals): void => {
        early ??= signal;
      };
      for (const signal of RUN_SIGNALS) process.on(signal, keep);
      const { runChild } = await import('./run-command.js');
      return runChild(parsed.options, parsed.child, io, () => {
        for (const signal of RUN_SIGNALS) process.removeListener(signal, keep);
        return early;
      });
    }
    case 'manifest':
      return (await import('./manifest-command.js')).manifestCommand(parsed.argv, io);
    case 'dashboard':
      return (await import('./dashboard-command.js')).dashboardCommand(parsed.argv, io);
    case 'wandb-ls': {
      const { formatWandbRuns, listWandbRuns } = await import('./wandb-ls.js');
      const dir = parsed.dir ?? process.env.WANDB_DIR ?? 'wandb';
      process.stdout.write(formatWandbRuns(listWandbRuns(dir), dir));
      return 0;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`codex-telemetry: ${errorText(error)}\n`);
    // A bad setting (flag or environment) is a usage error; anything else is a failure.
    process.exitCode =
      error instanceof TelemetryError &&
      (error.code === 'CONFIG_INVALID' || error.code === 'CONFIG_UNKNOWN_KEY')
        ? 2
        : 1;
  },
);
