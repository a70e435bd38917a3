/** `run --capture-output`: tees the trainer's stdout/stderr, unchanged to ours and appended to a file. */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/** Resolves when both streams have ended and the copy is closed. */
export function captureOutput(
  child: ChildProcess,
  file: string,
  warn: (line: string) => void,
): Promise<void> {
  const log = fs.createWriteStream(file, { flags: 'a' });
  log.on('error', (error) => warn(`codex-telemetry: cannot capture output to ${file}: ${error.message}`));
  const pipe = (from: NodeJS.ReadableStream | null, to: NodeJS.WritableStream): Promise<void> =>
    new Promise((resolve) => {
      if (!from) return resolve();
      from.on('data', (chunk: Buffer) => {
        to.write(chunk);
        log.write(chunk);
      });
      from.on('end', resolve);
      from.on('error', (error: Error) => {
        warn(`codex-telemetry: lost the trainer's output stream: ${error.message}`);
        resolve();
      });
    });
  return Promise.all([pipe(child.stdout, process.stdout), pipe(child.stderr, process.stderr)]).then(
    () => new Promise<void>((resolve) => log.end(resolve)),
  );
}
