/**
 * `codex-telemetry dashboard`: reads the given runs, then serves the page on its own HTTP server,
 * on 127.0.0.1:6006 by default or the next free port when that one is taken.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errnoCode } from '../errors.js';
import { dashboardHandler } from './http-handler.js';
import type { SourceKind } from '../sources/run-source.js';
import { LiveRuns } from './live-runs.js';
import { allowedRoots } from './safe-files.js';

export const DEFAULT_PORT = 6006;
export const DEFAULT_HOST = '127.0.0.1';
/** Ports tried after a taken default before giving up. */
const PORT_TRIES = 20;

export interface DashboardOptions {
  inputs: readonly string[];
  host?: string;
  /** An explicit port is used or fails; without one, 6006 or the next free port. 0: any. */
  port?: number;
  /** Only this kind of run (`--source`). */
  source?: SourceKind;
}

export interface RunningDashboard {
  url: string;
  port: number;
  live: LiveRuns;
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

export function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? DEFAULT_HOST;
  const live = new LiveRuns({
    inputs: options.inputs,
    source: options.source,
    onMalformed: (file, line) =>
      process.stderr.write(`dashboard: ${file}:${line.line}: ${line.field}: ${line.reason}; skipped\n`),
  });
  await live.start();
  const handler = dashboardHandler(live, { roots: allowedRoots(options.inputs), host, cwd: process.cwd() });
  const server = createServer((request, response) => {
    if (!handler(request, response)) {
      response.statusCode = 404;
      response.end('not found\n');
    }
  });
  let port = options.port ?? DEFAULT_PORT;
  for (let attempt = 0; ; attempt++) {
    try {
      port = await listen(server, host, port);
      break;
    } catch (error) {
      if (options.port !== undefined || errnoCode(error) !== 'EADDRINUSE' || attempt >= PORT_TRIES) {
        live.stop();
        throw error;
      }
      port++;
    }
  }
  return {
    url: urlOf(host, port),
    port,
    live,
    close: () =>
      new Promise<void>((resolve) => {
        live.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
