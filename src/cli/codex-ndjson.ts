#!/usr/bin/env node
/** Bin glue for `codex-ndjson`: dispatch the verb; command-line/run-bin.ts sets the exit status. */
import type { CommandIo } from '../command-line/command-io.js';
import { runBin, usageErrorText } from '../command-line/run-bin.js';
import { staticCharts } from '../dashboard/static-report.js';
import { USAGE_EXIT_CODE } from '../errors.js';
import { closest } from '../suggest.js';
import { summarizeCommand, SUMMARIZE_USAGE } from '../summarize/index.js';
import { packageVersion } from '../command-line/version.js';

const USAGE = `Usage: codex-ndjson <command> [options]

Commands:
  summarize   scorecards from train, eval and system NDJSON streams

summarize --help shows its options. -V, --version prints the version.
`;

async function main(argv: string[], io: CommandIo): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'summarize':
      return summarizeCommand(rest, io, staticCharts);
    case undefined:
      // Nothing asked, nothing done: the usage goes to stderr with the usage-error status.
      io.stderr.write(USAGE);
      return USAGE_EXIT_CODE;
    case 'help':
    case '--help':
    case '-h':
      io.stdout.write(rest[0] === 'summarize' ? `${SUMMARIZE_USAGE}\n` : USAGE);
      return 0;
    case '--version':
    case '-V':
    case 'version':
      io.stdout.write(`codex-ndjson ${packageVersion()}\n`);
      return 0;
    default: {
      const hint = closest(verb, ['summarize', 'help', 'version']);
      io.stderr.write(
        usageErrorText('codex-ndjson', `unknown command "${verb}"${hint ? `; did you mean "${hint}"?` : ''}`),
      );
      return USAGE_EXIT_CODE;
    }
  }
}

runBin('codex-ndjson', main);
