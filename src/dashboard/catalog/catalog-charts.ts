/**
 * Charts of the streams opened as catalogs (stream-catalog.ts): listed from their name tables,
 * made only when one is asked for, and kept while at most MAX_CATALOG_CHARTS are made (the least
 * recently asked for is dropped first, and made again from the index when asked again). A chart
 * that also gets a held series (rows that arrive later, another stream) is taken out for good: the
 * store holds it from then on and keeps it current as any chart. Each series of a chart made is
 * given its catalog as its origin, so a drag-zoom reads its rows by offset (../zoom/zoom-reader.ts).
 */
import { BucketSeries } from '../bucket-series.js';
import { chartPlace } from '../chart-key.js';
import type { Chart } from '../series-store.js';
import type { SeriesOrigins } from '../zoom/series-origin.js';
import type { StreamCatalog } from './stream-catalog.js';

/**
 * Charts made from catalogs at once: a page asks for the few dozen it shows (and those scrolled
 * into view), so this holds several screens' worth, at most 256 × (its series' buckets, ≤ 458 KB
 * each: MAX_BUCKETS × 14 × 8 bytes).
 */
export const MAX_CATALOG_CHARTS = 256;

/** What `/api/index` shows of the catalogs (`catalog`). */
export interface CatalogCounters {
  /** Series listed from catalogs (not held). */
  series: number;
  /** Charts made from catalogs and kept now (at most `bound`). */
  made: number;
  bound: number;
  /** Charts made, in all (a chart dropped and asked for again is made again). */
  loads: number;
  /** Charts dropped to stay within the bound. */
  evicted: number;
  /**
   * Streams of very many names whose index was built before their first read, to open them as a
   * catalog (names-at-start.ts).
   */
  indexedFirst: number;
  /** The highest peak RSS of the process that built such an index (MB; index-build-worker.ts). */
  indexedFirstPeakRssMb: number;
}

export class CatalogCharts {
  readonly catalogs: StreamCatalog[] = [];
  /** Made charts, least recently asked for first. */
  private readonly made = new Map<string, Chart>();
  /** Chart names the store holds now (see take). */
  private readonly taken = new Set<string>();
  /** How many names `names()` yields, counted once after each change (see listed). */
  private count: number | undefined;
  private loads = 0;
  private evicted = 0;
  /** See CatalogCounters. */
  indexedFirst = 0;
  indexedFirstPeakRssMb = 0;

  constructor(
    /** The store's: where a zoom finds the stream of each series made. */
    private readonly origins: SeriesOrigins,
    private readonly bound = MAX_CATALOG_CHARTS,
  ) {}

  add(catalog: StreamCatalog): void {
    this.catalogs.push(catalog);
    this.count = undefined;
  }

  /** Chart names listed (those `names()` yields), counted once, again after each change. */
  listed(): number {
    if (this.count === undefined) {
      this.count = 0;
      for (const _ of this.names()) this.count++;
    }
    return this.count;
  }

  /** Whether a catalog lists `metric` (and the store does not hold it). */
  has(metric: string): boolean {
    return !this.taken.has(metric) && this.catalogs.some((c) => c.has(metric));
  }

  /** The chart `metric`, made from the catalogs on first ask; undefined when none lists it. */
  chart(metric: string): Chart | undefined {
    const kept = this.made.get(metric);
    if (kept !== undefined) {
      this.made.delete(metric);
      this.made.set(metric, kept);
      return kept;
    }
    if (!this.has(metric)) return undefined;
    const chart = this.make(metric);
    this.made.set(metric, chart);
    this.loads++;
    for (const oldest of this.made.keys()) {
      if (this.made.size <= this.bound) break;
      this.made.delete(oldest);
      this.evicted++;
    }
    return chart;
  }

  /** Hands `metric`'s chart to the store for good (it gets a held series); undefined when unlisted. */
  take(metric: string): Chart | undefined {
    const chart = this.chart(metric);
    if (chart === undefined) return undefined;
    this.made.delete(metric);
    this.taken.add(metric);
    this.count = undefined;
    return chart;
  }

  /** Chart names of every catalog not held by the store, sorted, each once. */
  *names(): Generator<string> {
    const cursors = this.catalogs.map((catalog) => ({
      catalog,
      p: 0,
      name: undefined as string | undefined,
    }));
    const next = (c: (typeof cursors)[number]): void => {
      c.name = c.p < c.catalog.size ? c.catalog.metricAt(c.p++) : undefined;
    };
    cursors.forEach(next);
    let last: string | undefined;
    for (;;) {
      let best: (typeof cursors)[number] | undefined;
      for (const c of cursors)
        if (c.name !== undefined && (best === undefined || c.name < (best.name as string))) best = c;
      if (best === undefined) return;
      const name = best.name as string;
      next(best);
      if (name === last || this.taken.has(name)) continue;
      last = name;
      yield name;
    }
  }

  /** `run`'s training series with the most points among the catalogs (see run-clock.ts). */
  densestTrain(run: string): BucketSeries | undefined {
    let best: BucketSeries | undefined;
    for (const catalog of this.catalogs) {
      const points = catalog.densest.get(run)?.points ?? 0;
      if (points > (best?.points ?? 0)) best = catalog.densestTrain(run);
    }
    return best;
  }

  counters(): CatalogCounters {
    return {
      series: this.catalogs.reduce((sum, c) => sum + c.size, 0),
      made: this.made.size,
      bound: this.bound,
      loads: this.loads,
      evicted: this.evicted,
      indexedFirst: this.indexedFirst,
      indexedFirstPeakRssMb: this.indexedFirstPeakRssMb,
    };
  }

  /** Every series named `metric` in every catalog, read back from its index. */
  private make(metric: string): Chart {
    const chart: Chart = { metric, section: 'scalars', unit: undefined, lines: new Map() };
    for (const catalog of this.catalogs) {
      const [from, to] = catalog.find(metric);
      for (let p = from; p < to; p++) {
        const series = catalog.describeAt(p);
        const place = chartPlace(series.phase, series.name);
        const lineId = `${series.run}\u0000${place.phase}\u0000${place.sub}`;
        let line = chart.lines.get(lineId);
        if (line === undefined) {
          line = { run: series.run, phase: place.phase, sub: place.sub, ranks: new Map() };
          chart.lines.set(lineId, line);
        }
        const id = catalog.idAt(p);
        const buckets = new BucketSeries();
        buckets.append(catalog.state(id));
        this.origins.add(buckets, catalog.zoomOrigin(id, series));
        line.ranks.set(catalog.rank, buckets);
      }
    }
    return chart;
  }
}
