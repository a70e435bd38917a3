/**
 * Starts the real `tensorboard --load_fast=true` (its Rust data server, from the manylinux
 * `tensorboard_data_server` wheel) on 127.0.0.1 and reads scalars back through its HTTP API.
 *
 * TensorBoard comes from CODEX_TENSORBOARD_PYTHON's environment (the venv `.ci/run` makes). The
 * `py3-none-any` data-server wheel has no binary; `dataServerMissing()` says so, and tests then fail
 * in CI and skip with that reason elsewhere.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { parseLenientJson } from './lenient-json.js';

const PYTHON = process.env.CODEX_TENSORBOARD_PYTHON ?? 'python3';

/** Why `tensorboard --load_fast=true` cannot run here, or undefined when it can. */
export function dataServerMissing(): string | undefined {
  const probe = spawnSync(
    PYTHON,
    [
      '-c',
      'import tensorboard_data_server as s, sys; b = s.server_binary(); print(b or ""); sys.exit(0 if b else 3)',
    ],
    { encoding: 'utf8' },
  );
  if (probe.error !== undefined) return `${PYTHON} cannot start (${probe.error.message})`;
  if (probe.status === 3) {
    return `${PYTHON}'s tensorboard_data_server has no server binary (the py3-none-any wheel); install the manylinux wheel`;
  }
  if (probe.status !== 0) return `${PYTHON} cannot import tensorboard_data_server`;
  return undefined;
}

export interface TensorBoardServer {
  url: string;
  /** `/data/environment`'s data provider, e.g. `GrpcDataProvider(...)` for the Rust data server. */
  provider: string;
  /** `[wall_time, step, value]` points of one run's tag. */
  scalars(run: string, tag: string): Promise<Array<[number, number, number]>>;
  /** Run → tags. */
  tags(): Promise<Record<string, Record<string, unknown>>>;
  close(): Promise<void>;
}

export async function startTensorBoard(logdir: string, samples: number): Promise<TensorBoardServer> {
  const tensorboard = path.join(path.dirname(PYTHON), 'tensorboard');
  const child: ChildProcess = spawn(
    tensorboard,
    [
      '--logdir',
      logdir,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--load_fast=true',
      '--reload_interval',
      '1',
      // TensorBoard samples 1,000 points per tag unless told to keep more.
      '--samples_per_plugin',
      `scalars=${samples}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`tensorboard did not start in 60 s:\n${output}`)),
      60_000,
    );
    const look = (chunk: Buffer): void => {
      output += chunk.toString();
      const found = /http:\/\/127\.0\.0\.1:\d+/.exec(output);
      if (found !== null) {
        clearTimeout(timer);
        resolve(found[0]);
      }
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    child.once('exit', (code) => reject(new Error(`tensorboard exited (${code}):\n${output}`)));
  });
  const get = async <T>(route: string): Promise<T> => {
    const response = await fetch(`${url}${route}`);
    const text = await response.text();
    if (!response.ok) throw new Error(`GET ${route}: ${response.status} ${text}`);
    return parseLenientJson(text) as T;
  };
  const environment = await get<{ debug?: { data_provider?: string } }>('/data/environment');
  return {
    url,
    provider: environment.debug?.data_provider ?? '',
    scalars: async (run, tag) => {
      const points = await get<Array<[number, number, number | string]>>(
        `/data/plugin/scalars/scalars?run=${encodeURIComponent(run)}&tag=${encodeURIComponent(tag)}`,
      );
      // TensorBoard sends non-finite values as the strings "NaN", "Infinity", "-Infinity".
      return points.map(([wall, step, value]) => [wall, step, Number(value)]);
    },
    tags: () => get('/data/plugin/scalars/tags'),
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
