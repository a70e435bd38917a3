/**
 * `codex-telemetry dashboard`: serves the page on its own HTTP server, on 127.0.0.1:6006 by default
 * or the next free port when that one is taken, and reads the given runs; the API answers once
 * they have been read.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { errnoCode, errorText } from '../errors.js';
import type { Handler } from './http-handler.js';
import type { SourceKind } from '../sources/run-source.js';
import type { LiveRuns } from './live-runs.js';
import { pageRoute, send, TEXT } from './page-routes.js';
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
  /**
   * Told the URLs as soon as the server listens, before the runs are read: a browser opened then
   * loads the page while the runs load, and its API requests are answered once they have been read.
   */
  onListening?: (urls: string[]) => void;
}

/**
 * Open connections at most (page loads, chart requests, event streams together); more are closed
 * as they arrive, so idle or stalled clients cannot exhaust the process's file descriptors.
 */
export const MAX_CONNECTIONS = 512;

export interface RunningDashboard {
  /** A URL that reaches the server from this machine. */
  url: string;
  /** Every URL to print: for a wildcard bind, this machine's name and addresses too. */
  urls: string[];
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

/**
 * The URLs a user can open: a wildcard bind (0.0.0.0, ::) is not an address to browse to, so it
 * becomes loopback for this machine, plus its host name and external addresses for others.
 */
export function reachableUrls(host: string, port: number): string[] {
  if (host !== '0.0.0.0' && host !== '::' && host !== '[::]') return [urlOf(host, port)];
  const urls = [urlOf(host === '0.0.0.0' ? '127.0.0.1' : '::1', port), urlOf(os.hostname(), port)];
  for (const addresses of Object.values(os.networkInterfaces()))
    for (const address of addresses ?? [])
      if (!address.internal && (host !== '0.0.0.0' || address.family === 'IPv4'))
        urls.push(urlOf(address.address, port));
  return [...new Set(urls)];
}

export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? DEFAULT_HOST;
  // The modules that read runs load while the server listens and serves the page: a browser opened
  // on the URL fetches the page, its script and stylesheet meanwhile, and its API requests wait
  // until the runs are read (dashboardHandler's `loaded`), so the first answers are whole.
  const modules = Promise.all([import('./live-runs.js'), import('./http-handler.js')]);
  let handler: Handler | undefined;
  let markHandler = (_handler: Handler): void => undefined;
  const whenHandler = new Promise<Handler>((resolve) => (markHandler = resolve));
  const server = createServer((request, response) => {
    if (handler !== undefined) {
      if (!handler(request, response)) send(response, 404, TEXT, 'not found\n');
      return;
    }
    if (pageRoute(request, response, host)) return;
    // A failed start closes the server, and with it this request.
    whenHandler
      .then((ready) => {
        if (!ready(request, response)) send(response, 404, TEXT, 'not found\n');
      })
      .catch((error: unknown) => {
        if (!response.headersSent) send(response, 500, TEXT, `dashboard failed: ${errorText(error)}\n`);
        else response.destroy();
      });
  });
  server.maxConnections = MAX_CONNECTIONS;
  let port = options.port ?? DEFAULT_PORT;
  for (let attempt = 0; ; attempt++) {
    try {
      port = await listen(server, host, port);
      break;
    } catch (error) {
      if (options.port !== undefined || errnoCode(error) !== 'EADDRINUSE' || attempt >= PORT_TRIES) {
        // Loaded or not, the modules are no longer needed; a failure to load them says nothing more.
        modules.catch(() => undefined);
        throw error;
      }
      port++;
    }
  }
  const urls = reachableUrls(host, port);
  let live: LiveRuns | undefined;
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      live?.stop();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  options.onListening?.(urls);
  try {
    const [{ LiveRuns }, { dashboardHandler }] = await modules;
    const runs = new LiveRuns({
      inputs: options.inputs,
      source: options.source,
      // A line past the length limit already says it was skipped (every reader gives that reason).
      onMalformed: (file, line) =>
        process.stderr.write(
          `dashboard: ${file}:${line.line}: ${line.field}: ${line.reason}${line.reason.endsWith('skipped') ? '' : '; skipped'}\n`,
        ),
    });
    live = runs;
    let loaded = false;
    let markLoaded = (): void => undefined;
    const whenLoaded = new Promise<void>((resolve) => (markLoaded = resolve));
    handler = dashboardHandler(runs, {
      roots: allowedRoots(options.inputs),
      host,
      cwd: process.cwd(),
      loaded: () => (loaded ? undefined : whenLoaded),
    });
    markHandler(handler);
    await runs.start();
    loaded = true;
    markLoaded();
    return { url: urls[0] as string, urls, port, live: runs, close };
  } catch (error) {
    await close();
    throw error;
  }
}
