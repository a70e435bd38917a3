/**
 * The dashboard's HTTP routes, as one handler that a server of its own or the `/metrics` server
 * mounts. Read-only: GET and HEAD only, nothing writes. Every answer carries a strict
 * Content-Security-Policy and nosniff; a loopback-bound server refuses other Host names, so a web
 * page elsewhere cannot reach it through DNS rebinding.
 */
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type SafeRegex from 'safe-regex2';
import { CONTENT_SECURITY_POLICY } from './assets.js';
import { encodeChart } from './chart-binary.js';
import { chartData } from './chart-data.js';
import type { Finished, LiveRuns } from './live-runs.js';
import type { IndexQuery } from './series-store.js';
import { resolveFile } from './safe-files.js';
import { settleAhead } from './settle-ahead.js';
import { pageRoute, send } from './page-routes.js';
import { errorText, TelemetryError } from '../errors.js';
import { zoomData } from './zoom/zoom-data.js';
import { ZoomReader } from './zoom/zoom-reader.js';

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
  /** Reads zoomed windows (`/api/zoom`); default one with the documented bounds. */
  zoomReader?: ZoomReader;
  /**
   * While the runs are being read at start: a promise that resolves once they are (undefined
   * after). `/api/` requests wait for it, so the first answers hold everything on disk; the page
   * and its assets are served at once.
   */
  loaded?: () => Promise<void> | undefined;
}

export type Handler = (request: IncomingMessage, response: ServerResponse) => boolean;

export function dashboardHandler(live: LiveRuns, options: HandlerOptions): Handler {
  const zoomReader = options.zoomReader ?? new ZoomReader({ cache: live.zoomIndex });
  const route = routes(live, options, zoomReader);
  return (request, response) => {
    if (pageRoute(request, response, options.host)) return true;
    const url = request.url ?? '/';
    const loading = url.startsWith('/api/') ? options.loaded?.() : undefined;
    if (loading === undefined) return route(request, response, url);
    // A failed first read closes the server, and with it this request.
    loading
      .then(() => {
        if (!route(request, response, url)) send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
      })
      .catch((error: unknown) => {
        if (!response.headersSent)
          send(response, 500, 'text/plain; charset=utf-8', `dashboard failed: ${errorText(error)}\n`);
        else response.destroy();
      });
    return true;
  };
}

/**
 * Makes the answer of one line of a chart and drops it, after the first `/api/index` answer: the
 * page then lays out its cards before it asks for charts (tens of milliseconds this thread is
 * idle), and the chart code run once there answers those first charts warm (5 to 11 ms each cold,
 * 2 ms warm, at 20 scalars × 1,000,000 steps). One line, not the chart: a chart of 100 runs made
 * there kept the page's requests waiting. A failure here is the chart's own, met again when it is
 * asked for.
 */
function warmUpCharts(live: LiveRuns, metric: string): void {
  try {
    JSON.stringify(chartData(live.store, metric, { width: DEFAULT_CHART_WIDTH, lines: 1 }));
  } catch {
    // Nothing to do: the request for this chart reports what went wrong.
  }
}

/** A chart's width when a request does not say. */
const DEFAULT_CHART_WIDTH = 600;

function routes(
  live: LiveRuns,
  options: HandlerOptions,
  zoomReader: ZoomReader,
): (request: IncomingMessage, response: ServerResponse, url: string) => boolean {
  let warmedUp = false;
  return (request, response, url) => {
    const [pathname = '/', queryString = ''] = url.split('?', 2);
    const head = request.method === 'HEAD';
    const text = 'text/plain; charset=utf-8';
    const json = 'application/json; charset=utf-8';
    switch (pathname) {
      case '/api/index': {
        const query = indexQuery(new URLSearchParams(queryString));
        if (typeof query === 'string') {
          send(response, 400, text, `${query}\n`);
          return true;
        }
        const index = live.store.index(query);
        send(
          response,
          200,
          json,
          JSON.stringify({
            ...index,
            inputs: live.inputList(),
            loading: live.loadingRuns(),
            droppedClients: live.droppedClients,
            zoom: zoomReader.counters(),
            indexBuilds: live.indexBuilds.counters(),
            finished: live.finished,
          }),
          head,
        );
        if (!warmedUp && index.charts[0] !== undefined) {
          warmedUp = true;
          const listed = index.charts.map((chart) => chart.metric);
          setImmediate(() => {
            warmUpCharts(live, listed[0] as string);
            settleAhead(live.store, listed);
          });
        }
        return true;
      }
      case '/api/chart': {
        const params = new URLSearchParams(queryString);
        const metric = params.get('metric') ?? '';
        const number = (name: string): number | undefined => {
          const value = params.get(name);
          return value === null || value === '' || !Number.isFinite(Number(value))
            ? undefined
            : Number(value);
        };
        let chart;
        try {
          chart = chartData(live.store, metric, {
            width: number('width') ?? DEFAULT_CHART_WIDTH,
            from: number('from'),
            to: number('to'),
          });
        } catch (error) {
          // A chart made from a run index (catalog/) that changed since the dashboard opened it.
          if (!(error instanceof TelemetryError && error.code === 'INDEX_CHANGED')) throw error;
          send(response, 409, text, `${error.message}\n`);
          return true;
        }
        if (chart === undefined) send(response, 404, text, 'no such chart\n');
        // The page asks for float64 arrays (chart-binary.ts); JSON for everyone else.
        else if (params.get('format') === 'binary')
          send(response, 200, 'application/octet-stream', Buffer.from(encodeChart(chart).buffer), head);
        else send(response, 200, json, JSON.stringify(chart), head);
        return true;
      }
      case '/api/zoom':
        zoom(live, zoomReader, new URLSearchParams(queryString), response, head);
        return true;
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

let safeRegex: typeof SafeRegex | undefined;

/** The regex checker, loaded with the first filter: a page that never filters never loads it (~10 ms of a start). */
function safeRegexCheck(): typeof SafeRegex {
  safeRegex ??= createRequire(import.meta.url)('safe-regex2') as typeof SafeRegex;
  return safeRegex;
}

/** The longest `/api/index` filter pattern. */
export const MAX_FILTER_CHARS = 256;

/**
 * `/api/index`'s query: `filter` (a regular expression, case-insensitive, as the page's filter
 * box), `offset` and `limit` (at most MAX_INDEX_CHARTS). A string: what is wrong with it.
 */
export function indexQuery(params: URLSearchParams): IndexQuery | string {
  const out: IndexQuery = {};
  const filter = params.get('filter') ?? '';
  if (filter.length > MAX_FILTER_CHARS)
    return `filter: longer than ${MAX_FILTER_CHARS} characters; give a shorter pattern`;
  if (filter !== '') {
    try {
      out.filter = new RegExp(filter, 'i');
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return `filter: ${JSON.stringify(filter)} is not a regular expression (${error.message})`;
    }
    // One match runs to its end (JavaScript cannot stop it), and a repeated repetition can take
    // exponential time on one long name: refused before it runs.
    if (!safeRegexCheck()(out.filter))
      return `filter: ${JSON.stringify(filter)} repeats a repetition (as (a+)+ does), which can take exponential time on a long name; simplify it`;
  }
  for (const name of ['offset', 'limit'] as const) {
    const value = params.get(name);
    if (value === null || value === '') continue;
    const number = Number(value);
    if (!Number.isInteger(number) || number < 0)
      return `${name}: ${JSON.stringify(value)} is not a whole number of charts`;
    out[name] = number;
  }
  return out;
}

/**
 * A chart over a step window (`from`, `to`, both required) for a plot `width` pixels wide: the
 * rows themselves when the window is small, else run-index buckets (src/dashboard/zoom/). A window
 * whose rows would read past the per-request bound answers 413 with what to do.
 */
function zoom(
  live: LiveRuns,
  reader: ZoomReader,
  params: URLSearchParams,
  response: ServerResponse,
  head: boolean,
): void {
  const text = 'text/plain; charset=utf-8';
  const number = (name: string): number => {
    const value = params.get(name);
    return value === null || value === '' ? NaN : Number(value);
  };
  const from = number('from');
  const to = number('to');
  const width = number('width');
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) {
    send(response, 400, text, 'zoom needs numeric from and to steps, from <= to\n');
    return;
  }
  const metric = params.get('metric') ?? '';
  zoomData(live.store, live.store.origins, reader, metric, {
    from,
    to,
    width: Number.isFinite(width) ? width : 600,
  }).then(
    (chart) => {
      if (chart === undefined) send(response, 404, text, 'no such chart\n');
      else send(response, 200, 'application/json; charset=utf-8', JSON.stringify(chart), head);
    },
    (error: unknown) => {
      if (error instanceof TelemetryError && error.code === 'ZOOM_TOO_LARGE')
        send(response, 413, text, `${error.message}\n`);
      else if (error instanceof TelemetryError && error.code === 'INDEX_CHANGED')
        send(response, 409, text, `${error.message}\n`);
      else send(response, 500, text, `zoom failed: ${errorText(error)}\n`);
    },
  );
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
