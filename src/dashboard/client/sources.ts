/**
 * Where the page's data comes from: the server (JSON over HTTP, changes over server-sent events)
 * or, in a static report, the JSON embedded in the page itself.
 */
import type { ChartModel, IndexModel, StaticModel } from '../chart-model.js';

export interface Change {
  version: number;
  metrics: string[];
  structure: boolean;
}

export interface DataSource {
  readonly live: boolean;
  index(): Promise<IndexModel>;
  /** A chart cut to `width` pixels, over the step range `range` when zoomed. */
  chart(metric: string, width: number, range?: readonly [number, number]): Promise<ChartModel | undefined>;
  subscribe(onChange: (change: Change) => void, onStatus: (text: string) => void): void;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

export class LiveSource implements DataSource {
  readonly live = true;

  index(): Promise<IndexModel> {
    return getJson<IndexModel>('api/index');
  }

  async chart(
    metric: string,
    width: number,
    range?: readonly [number, number],
  ): Promise<ChartModel | undefined> {
    const zoom = range === undefined ? '' : `&from=${range[0]}&to=${range[1]}`;
    return getJson<ChartModel>(`api/chart?metric=${encodeURIComponent(metric)}&width=${width}${zoom}`);
  }

  subscribe(onChange: (change: Change) => void, onStatus: (text: string) => void): void {
    const events = new EventSource('api/events');
    events.onopen = () => onStatus('live');
    events.onerror = () => onStatus('reconnecting…');
    events.onmessage = (event: MessageEvent<string>) => onChange(JSON.parse(event.data) as Change);
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

  subscribe(_onChange: (change: Change) => void, onStatus: (text: string) => void): void {
    onStatus('static report');
  }
}
