/**
 * Runs Debian's real `prometheus` binary for tests: loopback only, a generated config, its own
 * data directory, readiness awaited through `/-/ready`, and stopped by the PID we started.
 * Also finds tools on PATH with the project rule for missing ones: skip locally, fail in CI.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** Absolute path of an executable on PATH, or undefined. */
export function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EACCES' && code !== 'ENOTDIR') throw error;
    }
  }
  return undefined;
}

/**
 * The binary's path; when it is missing, throws under CI (the suite must not pass without it) and
 * otherwise calls `skip` with the reason so the run says what it did not test.
 */
export function requireBinary(name: string, skip: (note: string) => never, aptPackage = name): string {
  const found = findBinary(name);
  if (found !== undefined) return found;
  const reason = `${name} is not installed (apt-get install -y ${aptPackage})`;
  if (process.env.CI) throw new Error(`${reason}; CI must install it, this test does not skip in CI`);
  return skip(`skipped: ${reason}`);
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusServerOptions {
  binary: string;
  /** Scratch directory for the config and the TSDB. */
  dir: string;
  /** `host:port` targets of the one scrape job. */
  targets: string[];
  /** File globs for `file_sd_configs` (the targets come from the files, `targets` is ignored). */
  fileSd?: string[];
  job?: string;
  scrapeIntervalSeconds?: number;
}

export class PrometheusServer {
  readonly url: string;
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private readonly output: string[] = [];

  private constructor(child: ChildProcess, url: string) {
    this.child = child;
    this.url = url;
    this.pid = child.pid as number;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdout?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
  }

  static async start(options: PrometheusServerOptions): Promise<PrometheusServer> {
    const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
    const configFile = path.join(options.dir, 'prometheus.yml');
    const dataDir = path.join(options.dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      configFile,
      [
        'global:',
        `  scrape_interval: ${interval}`,
        `  scrape_timeout: ${interval}`,
        `  evaluation_interval: ${interval}`,
        'scrape_configs:',
        `  - job_name: ${JSON.stringify(options.job ?? 'codex')}`,
        ...(options.fileSd === undefined
          ? ['    static_configs:', `      - targets: ${JSON.stringify(options.targets)}`]
          : [
              '    file_sd_configs:',
              `      - files: ${JSON.stringify(options.fileSd)}`,
              '        refresh_interval: 1s',
            ]),
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const child = spawn(
      options.binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (child.pid === undefined) {
      throw new Error(`could not start ${options.binary}`);
    }
    const server = new PrometheusServer(child, `http://127.0.0.1:${port}`);
    await server.waitReady(30_000);
    return server;
  }

  /** Instant query through the HTTP API; numbers parsed, NaN kept. */
  async query(expr: string): Promise<PromSample[]> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: {
        resultType: string;
        result: Array<{ metric: Record<string, string>; value: [number, string] }>;
      };
    };
    if (body.status !== 'success' || body.data?.resultType !== 'vector') {
      throw new Error(`Prometheus query ${expr} failed: ${body.error ?? JSON.stringify(body)}`);
    }
    return body.data.result.map((sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }));
  }

  /** Polls a query until `accept` holds, or fails with the last answer and the server's log. */
  async waitFor(
    expr: string,
    accept: (samples: PromSample[]) => boolean,
    timeoutMs = 20_000,
  ): Promise<PromSample[]> {
    const deadline = Date.now() + timeoutMs;
    let last: PromSample[] = [];
    while (Date.now() < deadline) {
      last = await this.query(expr);
      if (accept(last)) return last;
      await sleep(200);
    }
    throw new Error(
      `Prometheus: ${expr} never matched within ${timeoutMs} ms; last answer ${JSON.stringify(last)}; ` +
        `log: ${this.output.join('').slice(-2000)}`,
    );
  }

  /** SIGTERM to our PID, SIGKILL after 10 s; resolves once the process has exited. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) {
        throw new Error(`prometheus exited with ${this.child.exitCode}: ${this.output.join('')}`);
      }
      try {
        const response = await fetch(`${this.url}/-/ready`);
        if (response.status === 200) return;
      } catch (error) {
        // Not listening yet: fetch wraps ECONNREFUSED in a TypeError('fetch failed').
        if (!(error instanceof TypeError)) throw error;
      }
      await sleep(100);
    }
    await this.stop();
    throw new Error(`prometheus not ready after ${timeoutMs} ms: ${this.output.join('')}`);
  }
}

/** Runs `promtool` with optional stdin; returns its exit status and output. */
export function runPromtool(
  binary: string,
  args: string[],
  input?: string,
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(binary, args, { input, encoding: 'utf8', timeout: 30_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
