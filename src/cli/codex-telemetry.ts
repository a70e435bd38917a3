#!/usr/bin/env node
/** Bin glue for `codex-telemetry`: parse, dispatch, set process.exitCode. */
import { TelemetryError } from '../errors.js';
import { runDemo } from './demo.js';
import { manifestCommand } from './manifest-command.js';
import { runChild } from './run-command.js';
import { formatWandbRuns, listWandbRuns } from './wandb-ls.js';
import { runTail } from './tail-command.js';
import { parseCli } from './parse-cli.js';
import { packageVersion } from './version.js';

const COMMANDS_WITH_HELP = new Set(['demo', 'run', 'tail', 'manifest', 'wandb']);

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
    case 'demo':
      return runDemo(parsed.options, io);
    case 'tail':
      return runTail(parsed.options, parsed.files, io);
    case 'run':
      return runChild(parsed.options, parsed.child, io);
    case 'manifest':
      return manifestCommand(parsed.argv, io);
    case 'wandb-ls': {
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
    process.stderr.write(`codex-telemetry: ${error instanceof Error ? error.message : String(error)}\n`);
    // A bad setting (flag or environment) is a usage error; anything else is a failure.
    process.exitCode =
      error instanceof TelemetryError &&
      (error.code === 'CONFIG_INVALID' || error.code === 'CONFIG_UNKNOWN_KEY')
        ? 2
        : 1;
  },
);
