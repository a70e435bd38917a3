#!/usr/bin/env node
/** Bin glue for `codex-telemetry`: parse, dispatch, set process.exitCode. */
import { createRequire } from 'node:module';
import { runDemo } from './demo.js';
import { manifestCommand } from './manifest-command.js';
import { runChild } from './run-command.js';
import { formatWandbRuns, listWandbRuns } from './wandb-ls.js';
import { runTail } from './tail-command.js';
import { parseCli } from './parse-cli.js';

async function main(argv: string[]): Promise<number> {
  const parsed = parseCli(argv);
  const io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
  switch (parsed.command) {
    case 'help':
      process.stdout.write(parsed.text);
      return 0;
    case 'version': {
      const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    }
    case 'usage-error':
      process.stderr.write(`codex-telemetry: ${parsed.message}\n`);
      return 2;
    case 'demo':
      return runDemo(parsed.options, io);
    case 'tail':
      return runTail(
        parsed.options,
        parsed.files,
        { fromStart: parsed.fromStart, follow: parsed.follow },
        io,
      );
    case 'run':
      return runChild(parsed.options, parsed.child, io);
    case 'manifest':
      return manifestCommand(parsed.argv, io);
    case 'dashboard': {
      // Loaded on use: the other commands (a trainer's bridge) start without the dashboard's modules.
      const { dashboardCommand } = await import('./dashboard-command.js');
      return dashboardCommand(parsed.argv, io);
    }
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
    process.exitCode = 1;
  },
);
