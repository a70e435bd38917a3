#!/usr/bin/env node
/** Bin glue for `codex-ndjson`: dispatch the verb, set process.exitCode. */
import { summarizeCommand, SUMMARIZE_USAGE } from './summarize/index.js';

const USAGE = `Usage: codex-ndjson <command>\n\nCommands:\n  summarize   scorecards from train, eval and system NDJSON streams\n\n${SUMMARIZE_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const io = { stdout: process.stdout, stderr: process.stderr, isTTY: process.stderr.isTTY === true };
  if (verb === 'summarize') return summarizeCommand(rest, io);
  if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
    process.stdout.write(USAGE);
    return verb === undefined ? 2 : 0;
  }
  process.stderr.write(`codex-ndjson: unknown command "${verb}"\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`codex-ndjson: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
