/**
 * Where the page's data comes from: the server (JSON over HTTP, changes over server-sent events)
 * or, in a static report, the JSON embedded in the page itself.
 */
import { decodeChart } from '../chart-binary.js';
import type { ChartModel, IndexModel, StaticModel } from '../chart-model.js';

export interface Change {
  version: number;
  metrics: string[];
  structure: boolean;
  /** More charts changed than the event names: refetch every chart shown. */
  more?: boolean;
}

/** Which of the server's charts to list: a name filter (regular expression) and a page. */
export interface IndexQuery {
  filter?: string;
  offset?: number;
  limit?: number;
}

/** The run's end, sent by a server that closes with it (`demo`/`run`/`tail --dashboard`). */
export interface Finished {
  exitCode: number;
}

/**
 * Where the page stands: following a live server; the server went away without saying the run
 * ended (it may come back, so the page keeps trying); the run finished (the server said so, and
 * the page has its last rows); or a static report, which never changes.
 */
export type Connection = 'connecting' | 'live' | 'server-gone' | 'finished' | 'static';

export interface Subscriber {
  change(change: Change): void;
  status(connection: Connection, text: string): void;
  /** Resolves once the last rows are fetched; the page then hangs up, letting the server close. */
  finished(end: Finished): Promise<void>;
}

export interface DataSource {
  readonly live: boolean;
  index(query?: IndexQuery): Promise<IndexModel>;
  /** A chart cut to `width` pixels, over the step range `range` when zoomed. */
  chart(metric: string, width: number, range?: readonly [number, number]): Promise<ChartModel | undefined>;
  subscribe(subscriber: Subscriber): void;
}

/** What the header says when a run ended. */
export function finishedText(end: Finished): string {
  return end.exitCode === 0 ? 'run finished (exit code 0)' : `run failed (exit code ${end.exitCode})`;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { cache: 'no-store' });
  // A refused zoom (413) says why and what to do: show that, not only the status.
  if (response.status === 413) throw new Error((await response.text()).trim());
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

export class LiveSource implements DataSource {
  readonly live = true;

  index(query: IndexQuery = {}): Promise<IndexModel> {
    const params = new URLSearchParams();
    if (query.filter !== undefined && query.filter !== '') params.set('filter', query.filter);
    if (query.offset !== undefined && query.offset > 0) params.set('offset', String(query.offset));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    const search = params.toString();
    return getJson<IndexModel>(search === '' ? 'api/index' : `api/index?${search}`);
  }

  async chart(
    metric: string,
    width: number,
    range?: readonly [number, number],
  ): Promise<ChartModel | undefined> {
    const query = `metric=${encodeURIComponent(metric)}&width=${width}`;
    // A zoomed window is read from the run index, or row by row once it is small (`/api/zoom`).
    if (range !== undefined) return getJson<ChartModel>(`api/zoom?${query}&from=${range[0]}&to=${range[1]}`);
    // Float64 arrays, not JSON text: the numbers of 100 runs' lines are neither formatted by the
    // server nor parsed here (chart-binary.ts).
    const url = `api/chart?${query}&format=binary`;
    const response = await fetch(url, { cache: 'no-store' });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return decodeChart(await response.arrayBuffer());
  }

  subscribe(subscriber: Subscriber): void {
    const events = new EventSource('api/events');
    let ended = false;
    subscriber.status('connecting', 'connecting…');
    events.onopen = () => subscriber.status('live', 'live');
    // An error before any `finished` event: the server went away (killed, crashed, the network);
    // EventSource keeps trying, and the page says so rather than that the run ended.
    events.onerror = () => {
      if (!ended) subscriber.status('server-gone', 'server went away: reconnecting…');
    };
    events.onmessage = (event: MessageEvent<string>) => subscriber.change(JSON.parse(event.data) as Change);
    events.addEventListener('finished', (event: MessageEvent<string>) => {
      if (ended) return;
      ended = true;
      const end = JSON.parse(event.data) as Finished;
      subscriber
        .finished(end)
        .finally(() => events.close())
        .then(
          () => subscriber.status('finished', finishedText(end)),
          (error: unknown) =>
            subscriber.status(
              'finished',
              `${finishedText(end)}; its last rows could not be fetched: ${error instanceof Error ? error.message : String(error)}`,
            ),
        );
    });
  }
}

export class StaticSource implements DataSource {
  readonly live = false;

  constructor(private readonly model: StaticModel) {}

  index(): Promise<IndexModel> {
    const charts = this.model.charts.map(({ metric, section }) => ({ metric, section }));
    return Promise.resolve({ version: 0, runs: this.model.runs, charts, malformed: 0 });
  }

  chart(metric: string): Promise<ChartModel | undefined> {
    return Promise.resolve(this.model.charts.find((c) => c.metric === metric));
  }

  subscribe(subscriber: Subscriber): void {
    subscriber.status('static', 'static report');
  }
}
