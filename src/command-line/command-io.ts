/**
 * What every command of both CLIs gets from its process: its streams and its environment. Tests
 * hand in their own streams; the bins hand in `processIo()`.
 */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Read for the input `-` (default: process.stdin). */
  readonly stdin?: NodeJS.ReadableStream;
  /** Whether stderr is a terminal: progress lines are drawn only then. */
  readonly isTTY?: boolean;
}

export function processIo(): CommandIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stdin: process.stdin,
    isTTY: process.stderr.isTTY === true,
  };
}
