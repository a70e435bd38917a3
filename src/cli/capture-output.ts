/** `run --capture-output`: tees the trainer's stdout/stderr, unchanged to ours and appended to a file. */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { errnoCode, errorText } from '../errors.js';
import { APPEND_NO_FOLLOW, refuseLink } from '../files/no-follow.js';

/** Resolves when both streams have ended and the copy is closed. */
export function captureOutput(
  child: ChildProcess,
  file: string,
  warn: (line: string) => void,
): Promise<void> {
  const cannot = (error: unknown): void =>
    warn(`codex-telemetry: cannot capture output to ${file}: ${errorText(refuseLink(file, error))}`);
  let log: fs.WriteStream | undefined;
  try {
    log = fs.createWriteStream(file, { fd: fs.openSync(file, APPEND_NO_FOLLOW, 0o644) });
    log.on('error', cannot);
  } catch (error) {
    if (errnoCode(error) === undefined) throw error;
    cannot(error);
  }
  const pipe = (from: NodeJS.ReadableStream | null, to: NodeJS.WritableStream): Promise<void> =>
    new Promise((resolve) => {
      if (!from) return resolve();
      from.on('data', (chunk: Buffer) => {
        to.write(chunk);
        log?.write(chunk);
      });
      from.on('end', resolve);
      from.on('error', (error: Error) => {
        warn(`codex-telemetry: lost the trainer's output stream: ${error.message}`);
        resolve();
      });
    });
  return Promise.all([pipe(child.stdout, process.stdout), pipe(child.stderr, process.stderr)]).then(
    () => new Promise<void>((resolve) => (log ? log.end(resolve) : resolve())),
  );
}
