#!/usr/bin/env node
/** Bin glue for `codex-telemetry`: parse, dispatch; command-line/run-bin.ts sets the exit status. */
import type { CommandIo } from '../command-line/command-io.js';
import { runBin, usageErrorText } from '../command-line/run-bin.js';
import { nameSettingsByFlag } from '../config/setting-name.js';
import { USAGE_EXIT_CODE } from '../errors.js';
import { parseCli } from './parse-cli.js';
import { packageVersion } from '../command-line/version.js';

const RUN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const COMMANDS_WITH_HELP = new Set(['demo', 'run', 'tail', 'manifest', 'wandb', 'dashboard']);

async function main(argv: string[], io: CommandIo): Promise<number> {
  // Hints name the flags a user of this CLI types, not the environment variables behind them.
  nameSettingsByFlag();
  const parsed = parseCli(argv);
  switch (parsed.command) {
    case 'help':
      io.stdout.write(parsed.text);
      return 0;
    case 'version':
      io.stdout.write(`codex-telemetry ${packageVersion()}\n`);
      return 0;
    case 'usage-error':
      // No arguments at all: the usage itself is the answer, on stderr since nothing was done.
      if (argv.length === 0) io.stderr.write(parsed.usage);
      else {
        const topic = COMMANDS_WITH_HELP.has(argv[0] as string) ? ` ${argv[0]}` : '';
        io.stderr.write(usageErrorText(`codex-telemetry${topic}`, parsed.message));
      }
      return USAGE_EXIT_CODE;
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
    case 'wandb-ls':
      return (await import('./wandb-ls.js')).wandbLsCommand(parsed.dir, io);
  }
}

runBin('codex-telemetry', main);
