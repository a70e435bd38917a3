#!/usr/bin/env node
/** Bin glue for `codex-ndjson`: dispatch the verb, set process.exitCode. */
import { errorText } from '../errors.js';
import { staticCharts } from '../dashboard/static-report.js';
import { closest } from '../suggest.js';
import { summarizeCommand, SUMMARIZE_USAGE } from '../summarize/index.js';
import { packageVersion } from './version.js';

const USAGE = `Usage: codex-ndjson <command> [options]

Commands:
  summarize   scorecards from train, eval and system NDJSON streams

summarize --help shows its options. -V, --version prints the version.
`;

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    isTTY: process.stderr.isTTY === true,
  };
  switch (verb) {
    case 'summarize':
      return summarizeCommand(rest, io, staticCharts);
    case undefined:
      // Nothing asked, nothing done: the usage goes to stderr with the usage-error status.
      process.stderr.write(USAGE);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(rest[0] === 'summarize' ? `${SUMMARIZE_USAGE}\n` : USAGE);
      return 0;
    case '--version':
    case '-V':
    case 'version':
      process.stdout.write(`codex-ndjson ${packageVersion()}\n`);
      return 0;
    default: {
      const hint = closest(verb, ['summarize', 'help', 'version']);
      process.stderr.write(
        `codex-ndjson: unknown command "${verb}"${hint ? `; did you mean "${hint}"?` : ''}\nRun "codex-ndjson --help" for usage.\n`,
      );
      return 2;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`codex-ndjson: ${errorText(error)}\n`);
    process.exitCode = 1;
  },
);
