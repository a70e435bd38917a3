/**
 * The dashboard's HTTP routes, as one handler that a server of its own or the `/metrics` server
 * mounts. Read-only: GET and HEAD only, nothing writes. Every answer carries a strict
 * Content-Security-Policy and nosniff; a loopback-bound server refuses other Host names, so a web
 * page elsewhere cannot reach it through DNS rebinding.
 */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTENT_SECURITY_POLICY, loadAssets, MISSING_ASSETS, PAGE } from './assets.js';
import { chartData } from './chart-data.js';
import type { Finished, LiveRuns } from './live-runs.js';
import { resolveFile } from './safe-files.js';
import { hostAllowed } from '../net/host-allowed.js';

/** A comment line every so often keeps proxies and browsers from closing an idle event stream. */
const HEARTBEAT_MS = 15_000;
/**
 * Bytes an event-stream client may leave unread before it is dropped (counted in
 * `/api/index`'s droppedClients). A page that stops reading (a suspended tab, a stalled network)
 * then costs at most this much memory; a live page reads each message as it comes and never nears it.
 */
export const MAX_EVENT_BUFFER_BYTES = 1 << 20;

export interface HandlerOptions {
  /** Folders `/files/` may serve from (real paths). */
  roots: readonly string[];
  /** The bind address: a loopback bind only answers loopback Host names. */
  host: string;
  /** `/files/<path>` paths are relative to this folder (the working folder at start). */
  cwd: string;
}

export type Handler = (request: IncomingMessage, response: ServerResponse) => boolean;

function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  head = false,
): void {
  response.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  });
  response.end(head ? undefined : body);
}

export function dashboardHandler(live: LiveRuns, options: HandlerOptions): Handler {
  return (request, response) => {
    const url = request.url ?? '/';
    const [pathname = '/', query = ''] = url.split('?', 2);
    if (!hostAllowed(request, options.host)) {
      send(response, 403, 'text/plain; charset=utf-8', 'this dashboard answers only to localhost\n');
      return true;
    }
    const head = request.method === 'HEAD';
    if (request.method !== 'GET' && !head) {
      response.setHeader('allow', 'GET, HEAD');
      send(response, 405, 'text/plain; charset=utf-8', 'the dashboard is read-only\n');
      return true;
    }
    const text = 'text/plain; charset=utf-8';
    const json = 'application/json; charset=utf-8';
    switch (pathname) {
      case '/':
      case '/index.html':
        send(response, 200, 'text/html; charset=utf-8', PAGE, head);
        return true;
      case '/assets/dashboard.js':
      case '/assets/dashboard.css': {
        const assets = loadAssets();
        if (assets === undefined) send(response, 503, text, `${MISSING_ASSETS}\n`);
        else if (pathname.endsWith('.js'))
          send(response, 200, 'text/javascript; charset=utf-8', assets.js, head);
        else send(response, 200, 'text/css; charset=utf-8', assets.css, head);
        return true;
      }
      case '/api/index':
        send(
          response,
          200,
          json,
          JSON.stringify({
            ...live.store.index(),
            inputs: live.inputList(),
            loading: live.loadingRuns(),
            droppedClients: live.droppedClients,
            finished: live.finished,
          }),
          head,
        );
        return true;
      case '/api/chart': {
        const params = new URLSearchParams(query);
        const metric = params.get('metric') ?? '';
        const number = (name: string): number | undefined => {
          const value = params.get(name);
          return value === null || value === '' || !Number.isFinite(Number(value))
            ? undefined
            : Number(value);
        };
        const chart = chartData(live.store, metric, {
          width: number('width') ?? 600,
          from: number('from'),
          to: number('to'),
        });
        if (chart === undefined) send(response, 404, text, 'no such chart\n');
        else send(response, 200, json, JSON.stringify(chart), head);
        return true;
      }
      case '/api/events':
        events(live, request, response);
        return true;
    }
    if (pathname.startsWith('/files/')) {
      const answer = resolveFile(pathname.slice('/files/'.length), options.roots, options.cwd);
      if (!answer.ok) send(response, answer.status, text, `${answer.reason}\n`);
      else sendFile(response, answer.path, head);
      return true;
    }
    return false;
  };
}

/** Streams a file: a multi-gigabyte stream is never held in memory. */
function sendFile(response: ServerResponse, file: string, head: boolean): void {
  response.writeHead(200, {
    'content-type': file.endsWith('.gz') ? 'application/gzip' : 'application/x-ndjson',
    'content-length': fs.statSync(file).size,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
  });
  if (head) response.end();
  else
    fs.createReadStream(file)
      .on('error', (error) => response.destroy(error))
      .pipe(response);
}

/** Server-sent events: one `data:` message per change round. */
function events(live: LiveRuns, request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    connection: 'keep-alive',
  });
  const write = (text: string): void => {
    if (response.writableLength > MAX_EVENT_BUFFER_BYTES) {
      live.droppedClients++;
      stop();
      response.destroy();
      return;
    }
    response.write(text);
  };
  write(`retry: 1000\n\n`);
  // The run's end is its own event, after its last change: the page fetches what changed, says the
  // run finished, and hangs up, which lets a finishing server close (LiveRuns.finish).
  const finished = (end: Finished): void => write(`event: finished\ndata: ${JSON.stringify(end)}\n\n`);
  const unsubscribe = live.subscribe((change) => write(`data: ${JSON.stringify(change)}\n\n`));
  const unsubscribeEnd = live.onFinished(finished);
  const hungUp = live.clientConnected();
  if (live.finished !== undefined) finished(live.finished);
  const heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS).unref();
  const stop = (): void => {
    clearInterval(heartbeat);
    unsubscribe();
    unsubscribeEnd();
    hungUp();
  };
  request.on('close', stop);
}
