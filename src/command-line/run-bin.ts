/**
 * The glue both bins share: run the command, set the exit status, and answer what escapes it the
 * same way: a usage error in one line plus where help is (exit 2), a bad setting (exit 2), anything
 * else in one line (exit 1). Output to a closed pipe (`... | head`) is dropped quietly, as `cat`
 * stops quietly, instead of an unhandled EPIPE with a stack trace; the command itself goes on to its
 * end (a bridge still flushes its sinks), and `summarize`, whose output is its last act, just ends.
 */
import { errnoCode, errorText, TelemetryError, UsageError, USAGE_EXIT_CODE } from '../errors.js';
import { processIo, type CommandIo } from './command-io.js';

/** The one-line answer to a usage error, naming the help of the command it is about. */
export function usageErrorText(command: string, message: string): string {
  const bin = command.split(' ')[0] as string;
  return `${bin}: ${message}\nRun "${command} --help" for usage.\n`;
}

/** Errors of a stream whose reader is gone: EPIPE, then writes to the stream Node closed for it. */
const CLOSED_PIPE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

/** A closed reader of stdout or stderr is not an error of ours: the reader has what it wanted. */
export function dropOutputToClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on('error', (error: unknown) => {
    if (!CLOSED_PIPE.has(errnoCode(error) ?? '')) throw error;
  });
}

export function runBin(bin: string, main: (argv: string[], io: CommandIo) => Promise<number>): void {
  dropOutputToClosedPipe(process.stdout);
  dropOutputToClosedPipe(process.stderr);
  main(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(usageErrorText(bin, error.message));
        process.exitCode = USAGE_EXIT_CODE;
        return;
      }
      process.stderr.write(`${bin}: ${errorText(error)}\n`);
      // A bad setting (flag or environment) is a usage error; anything else is a failure.
      process.exitCode =
        error instanceof TelemetryError &&
        (error.code === 'CONFIG_INVALID' || error.code === 'CONFIG_UNKNOWN_KEY')
          ? USAGE_EXIT_CODE
          : 1;
    },
  );
}
