/**
 * A stand-in W&B server on 127.0.0.1 for the real `wandb sync`: it answers exactly what wandb-core
 * 0.30 asks while syncing an offline run (found by logging its requests and answering each until
 * sync completed), and keeps what arrived so tests can compare it with what was logged:
 *
 * - `POST /graphql` `ServerFeaturesQuery`, `UpsertBucket` (run + config, then entity + environment),
 *   `CreateRunFiles` (answered with upload URLs on this server);
 * - `POST /files/<entity>/<project>/<run>/file_stream`: history, summary, events, output lines at
 *   offsets, and at the end `complete`, `exitcode` and the `uploaded` list;
 * - `PUT /upload/<run>/<file>`: the uploaded files;
 * - `POST /sdk/otel/v1/metrics`: wandb's own usage telemetry, acknowledged and ignored.
 *
 * Anything else is answered 404 and listed in `unexpected`, so a test notices a new request.
 *
 * `{ keepHistory: false }` decodes every history row as it arrives and checks it (count, offsets in
 * order, `_step` strictly increasing) without keeping it: 10,000,000 kept rows would take the
 * stand-in past several GB.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseLenientJson } from './lenient-json.js';

/** What `{ keepHistory: false }` keeps of the history rows instead of the rows. */
export interface HistoryCheck {
  /** Rows received and decoded, resent offsets included. */
  received: number;
  /** One more than the highest offset received: the rows the run holds when none is missing. */
  rows: number;
  /** Offsets that arrived out of order (a gap or a resend), with the offset expected; first 10. */
  offsetProblems: string[];
  /** `_step` of the row at the highest offset so far. */
  lastStep: number | undefined;
  /** Rows whose `_step` was not above the previous row's (or missing); first 10. */
  stepProblems: string[];
}

export interface SyncedRun {
  /** History rows by file-stream offset (index = line number); empty with `keepHistory: false`. */
  history: Array<Record<string, unknown>>;
  historyCheck: HistoryCheck;
  /** The last summary the file stream carried. */
  summary: Record<string, unknown> | undefined;
  /** System-metrics lines (`wandb-events.jsonl`). */
  events: Array<Record<string, unknown>>;
  outputLines: string[];
  /** The config sent with UpsertBucket (W&B's `{key: {value}}` form). */
  config: Record<string, unknown> | undefined;
  /** Every UpsertBucket's variables, in order. */
  upserts: Array<Record<string, unknown>>;
  /** File name → uploaded text. */
  files: Map<string, string>;
  complete: boolean;
  exitCode: number | undefined;
  uploaded: string[];
}

export interface StandinServer {
  url: string;
  runs: Map<string, SyncedRun>;
  /** Requests the stand-in does not know (method and path, GraphQL operation name). */
  unexpected: string[];
  close(): Promise<void>;
}

function emptyRun(): SyncedRun {
  return {
    history: [],
    historyCheck: { received: 0, rows: 0, offsetProblems: [], lastStep: undefined, stepProblems: [] },
    summary: undefined,
    events: [],
    outputLines: [],
    config: undefined,
    upserts: [],
    files: new Map(),
    complete: false,
    exitCode: undefined,
    uploaded: [],
  };
}

interface FileStreamBody {
  files?: Record<string, { offset: number; content: string[] }>;
  complete?: boolean;
  exitcode?: number;
  uploaded?: string[];
}

interface GraphqlBody {
  operationName?: string;
  variables?: Record<string, unknown>;
}

/** Checks one decoded history row at file-stream offset `at` against the rows before it. */
function checkHistoryRow(check: HistoryCheck, at: number, row: Record<string, unknown>): void {
  check.received++;
  if (at !== check.rows && check.offsetProblems.length < 10)
    check.offsetProblems.push(`offset ${at} arrived when ${check.rows} was next`);
  if (at < check.rows) return;
  const step = row._step;
  if (typeof step !== 'number' || (check.lastStep !== undefined && step <= check.lastStep)) {
    if (check.stepProblems.length < 10)
      check.stepProblems.push(`offset ${at}: _step ${String(step)} after ${String(check.lastStep)}`);
  }
  if (typeof step === 'number') check.lastStep = step;
  check.rows = at + 1;
}

export async function startStandinServer(options: { keepHistory?: boolean } = {}): Promise<StandinServer> {
  const keepHistory = options.keepHistory ?? true;
  const runs = new Map<string, SyncedRun>();
  const unexpected: string[] = [];
  const run = (name: string): SyncedRun => {
    let found = runs.get(name);
    if (found === undefined) runs.set(name, (found = emptyRun()));
    return found;
  };
  let url = '';

  function graphql(body: GraphqlBody): unknown {
    const variables = body.variables ?? {};
    switch (body.operationName) {
      case 'ServerFeaturesQuery':
        // The hosted server expands metric globs; saying so spares a warning from wandb-core.
        return {
          data: { serverInfo: { features: [{ name: 'EXPAND_DEFINED_METRIC_GLOBS', isEnabled: true }] } },
        };
      case 'UpsertBucket': {
        const name = String(variables.name ?? '');
        const synced = run(name);
        synced.upserts.push(variables);
        if (typeof variables.config === 'string') {
          synced.config = parseLenientJson(variables.config) as Record<string, unknown>;
        }
        const project = String(variables.project ?? 'uncategorized');
        const entity = String(variables.entity ?? 'standin');
        return {
          data: {
            upsertBucket: {
              bucket: {
                id: Buffer.from(`Run:${name}`).toString('base64'),
                name,
                displayName: variables.displayName ?? name,
                description: null,
                config: variables.config ?? '{}',
                sweepName: null,
                project: { id: 'cHJvamVjdA==', name: project, entity: { id: 'ZW50aXR5', name: entity } },
                historyLineCount: 0,
              },
              inserted: true,
            },
          },
        };
      }
      case 'CreateRunFiles': {
        const name = String(variables.run ?? '');
        const files = (variables.files as string[] | undefined) ?? [];
        return {
          data: {
            createRunFiles: {
              runID: name,
              uploadHeaders: [],
              files: files.map((file) => ({
                name: file,
                uploadUrl: `${url}/upload/${encodeURIComponent(name)}/${encodeURIComponent(file)}`,
              })),
            },
          },
        };
      }
      default:
        unexpected.push(`graphql ${body.operationName ?? '(no operation name)'}`);
        return { errors: [{ message: `stand-in server does not know ${body.operationName}` }] };
    }
  }

  function fileStream(name: string, body: FileStreamBody): void {
    const synced = run(name);
    for (const [file, chunk] of Object.entries(body.files ?? {})) {
      chunk.content.forEach((line, i) => {
        const at = chunk.offset + i;
        if (file === 'wandb-history.jsonl') {
          const row = parseLenientJson(line) as Record<string, unknown>;
          checkHistoryRow(synced.historyCheck, at, row);
          if (keepHistory) synced.history[at] = row;
        } else if (file === 'wandb-events.jsonl')
          synced.events[at] = parseLenientJson(line) as Record<string, unknown>;
        else if (file === 'wandb-summary.json')
          synced.summary = parseLenientJson(line) as Record<string, unknown>;
        else if (file === 'output.log') synced.outputLines[at] = line;
        else unexpected.push(`file_stream file ${file}`);
      });
    }
    if (body.complete === true) synced.complete = true;
    if (body.exitcode !== undefined) synced.exitCode = body.exitcode;
    if (body.uploaded !== undefined) synced.uploaded.push(...body.uploaded);
  }

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const reply = (status: number, body: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      const route = new URL(request.url ?? '/', 'http://127.0.0.1');
      const parts = route.pathname.split('/').map(decodeURIComponent);
      try {
        answer(request.method ?? '', route, parts, text, reply);
      } catch (error) {
        // A request the stand-in misread: answer (so wandb-core does not retry for minutes) and record it.
        unexpected.push(`${request.method} ${route.pathname}: ${String(error)}`);
        reply(500, { error: String(error) });
      }
    });
  });

  function answer(
    method: string,
    route: URL,
    parts: string[],
    text: string,
    reply: (status: number, body: unknown) => void,
  ): void {
    if (method === 'POST' && route.pathname === '/graphql') {
      reply(200, graphql(JSON.parse(text) as GraphqlBody));
    } else if (method === 'POST' && parts[1] === 'files' && parts[5] === 'file_stream') {
      fileStream(parts[4] ?? '', JSON.parse(text) as FileStreamBody);
      reply(200, { exitcode: null, limits: {} });
    } else if (method === 'PUT' && parts[1] === 'upload') {
      run(parts[2] ?? '').files.set(parts.slice(3).join('/'), text);
      reply(200, {});
    } else if (method === 'POST' && route.pathname.startsWith('/sdk/otel/')) {
      reply(200, {});
    } else {
      unexpected.push(`${method} ${route.pathname}`);
      reply(404, { error: 'not a W&B route the stand-in knows' });
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    runs,
    unexpected,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
