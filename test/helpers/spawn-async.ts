/**
 * `spawnSync`'s answer without blocking the test worker: a child that runs for a minute on a
 * loaded machine would otherwise hold the worker's event loop so long that the runner's own
 * messages to it time out (vitest's worker RPC waits 60 s), failing a run whose tests all passed.
 */
import { spawn, type SpawnOptions } from 'node:child_process';

export interface SpawnResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the child could not be started. */
  error?: Error;
}

export function spawnAsync(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { input?: string; timeout?: number } = {},
): Promise<SpawnResult> {
  const { input, timeout, ...spawnOptions } = options;
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...spawnOptions, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = timeout === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), timeout);
    child.once('error', (error) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ status: null, signal: null, stdout, stderr, error });
    });
    child.once('close', (status, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}
