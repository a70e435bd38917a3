/**
 * Every series the dashboard holds, indexed by chart, and which charts changed since the last
 * look. Readers add points; the HTTP side builds chart answers and sends change events.
 */
import { BucketBudget, type BucketBudgetCounters } from './bucket-budget.js';
import { BucketSeries } from './bucket-series.js';
import { chartPlace, compareSections } from './chart-key.js';
import { colorOf, type IndexModel, type RunModel } from './chart-model.js';
import { systemUnit } from './system-unit.js';
import type { Phase } from '../step.js';
import { SeriesOrigins } from './zoom/series-origin.js';
import { CatalogCharts, type CatalogCounters } from './catalog/catalog-charts.js';
import type { StreamCatalog } from './catalog/stream-catalog.js';

/** One line of a chart: a run's series of one phase (and GPU), with one BucketSeries per rank. */
export interface Line {
  run: string;
  phase: Phase;
  sub: string;
  ranks: Map<number, BucketSeries>;
}

export interface Chart {
  metric: string;
  section: string;
  /** A system chart's unit, from the system key tables. */
  unit: string | undefined;
  lines: Map<string, Line>;
}

/**
 * Charts one `/api/index` answer lists at most: a run with a million names lists a page of them,
 * and the page's filter box searches the rest on the server.
 */
export const MAX_INDEX_CHARTS = 1000;

/**
 * Changed charts one change event names at most: past it the event says `more` and the page
 * fetches again the charts it shows (a first read of a million names is one round).
 */
export const MAX_CHANGED_NAMES = 1000;

/**
 * Time one filtered `/api/index` walks names at most: past it the answer says how many it searched
 * (`searched`, `stopped`) instead of holding the server (and its SIGTERM) for a million names.
 */
export const FILTER_BUDGET_MS = 1000;

export interface IndexQuery {
  /** Charts whose name it matches (case-insensitive, as the page's filter box). */
  filter?: RegExp;
  offset?: number;
  limit?: number;
  /** Milliseconds a filtered walk may take (FILTER_BUDGET_MS). */
  budgetMs?: number;
}

export class SeriesStore {
  readonly runs = new Map<string, RunModel>();
  readonly charts = new Map<string, Chart>();
  /** The stream (and index key) behind each series read from NDJSON, for drag-zoom. */
  readonly origins = new SeriesOrigins();
  /** Streams with very many names, listed by name and charted on request (catalog/). */
  readonly catalog: CatalogCharts;
  /** How many buckets each series may keep, given how many there are (bucket-budget.ts). */
  readonly buckets: BucketBudget;
  /** Bumped on every change; the page asks for the index again when it moved. */
  version = 0;
  malformed = 0;
  private changed = new Set<string>();
  private structure = false;
  /** The charts in page order (see sorted()). */
  private order: Chart[] | undefined;

  constructor(catalogBound?: number, bucketBudget?: number) {
    this.catalog = new CatalogCharts(this.origins, catalogBound);
    this.buckets = new BucketBudget(bucketBudget);
  }

  /**
   * The chart named `metric`: a held one, or one made from a catalog (see catalog/catalog-charts.ts),
   * its series' deferred buckets read (deferred-series.ts). Throws INDEX_CHANGED when a run index
   * they are read from was rewritten since the start.
   */
  chart(metric: string): Chart | undefined {
    const chart = this.charts.get(metric) ?? this.catalog.chart(metric);
    if (chart !== undefined)
      for (const line of chart.lines.values()) for (const series of line.ranks.values()) series.settle();
    return chart;
  }

  /** A stream opened as a catalog: its names are listed, its charts made when asked for. */
  addCatalog(catalog: StreamCatalog): void {
    this.catalog.add(catalog);
    for (const run of new Set(catalog.runNames)) this.rankOf(run, catalog.rank);
    // A chart held already and listed by the catalog too: the store holds it, with both.
    for (const metric of [...this.charts.keys()]) if (catalog.has(metric)) this.adopt(metric);
    this.structure = true;
  }

  /** The series a reader appends to (created, with its run and chart, on first use). */
  series(run: string, rank: number, phase: Phase, name: string): BucketSeries {
    this.rankOf(run, rank);
    const place = chartPlace(phase, name);
    if (!this.charts.has(place.metric) && this.catalog.catalogs.length > 0) {
      const made = this.catalog.take(place.metric);
      if (made !== undefined) {
        this.charts.set(place.metric, made);
        this.structure = true;
      }
    }
    let chart = this.charts.get(place.metric);
    if (chart === undefined) {
      chart = {
        metric: place.metric,
        section: place.section,
        unit: phase === 'system' ? systemUnit(name) : undefined,
        lines: new Map(),
      };
      this.charts.set(place.metric, chart);
      this.structure = true;
    }
    const lineId = `${run}\u0000${place.phase}\u0000${place.sub}`;
    let line = chart.lines.get(lineId);
    if (line === undefined) {
      line = { run, phase: place.phase, sub: place.sub, ranks: new Map() };
      chart.lines.set(lineId, line);
    }
    let series = line.ranks.get(rank);
    if (series === undefined) {
      series = new BucketSeries(this.buckets.perSeries());
      this.buckets.add(series);
      line.ranks.set(rank, series);
      this.structure = true;
    }
    return series;
  }

  /** Adds a catalog's lines to the held chart `metric`. */
  private adopt(metric: string): void {
    const made = this.catalog.take(metric);
    const chart = this.charts.get(metric);
    if (made === undefined || chart === undefined) return;
    for (const [id, line] of made.lines) {
      const held = chart.lines.get(id);
      if (held === undefined) chart.lines.set(id, line);
      else for (const [rank, series] of line.ranks) if (!held.ranks.has(rank)) held.ranks.set(rank, series);
    }
  }

  private rankOf(run: string, rank: number): void {
    const runModel = this.runs.get(run) ?? this.addRun(run);
    if (!runModel.ranks.includes(rank)) {
      runModel.ranks.push(rank);
      runModel.ranks.sort((a, b) => a - b);
      this.structure = true;
    }
  }

  /** A run's reader found that it ended (a W&B exit record): the page's legend says so. */
  runEnded(run: string, exitCode: number): void {
    const model = this.runs.get(run);
    if (model === undefined || model.exitCode === exitCode) return;
    model.exitCode = exitCode;
    this.structure = true;
  }

  /** A reader appended to a chart's series. */
  touch(metric: string): void {
    this.changed.add(metric);
  }

  /** What changed since the last call: chart names, and whether runs or charts were added. */
  takeChanges(): { metrics: string[]; structure: boolean; more: boolean } | undefined {
    if (this.changed.size === 0 && !this.structure) return undefined;
    const more = this.changed.size > MAX_CHANGED_NAMES;
    const out = {
      metrics: more ? [] : [...this.changed],
      structure: this.structure,
      more,
    };
    this.changed = new Set();
    this.structure = false;
    this.version++;
    return out;
  }

  /**
   * The charts in page order whose name matches `query.filter` (all without one), from
   * `query.offset`, at most `query.limit` of them (MAX_INDEX_CHARTS by default): with a million
   * names the page asks for what it shows and searches the rest here. `total` counts every match.
   */
  index(query: IndexQuery = {}): IndexModel & { catalog: CatalogCounters; buckets: BucketBudgetCounters } {
    const limit = Math.max(0, Math.min(query.limit ?? MAX_INDEX_CHARTS, MAX_INDEX_CHARTS));
    const offset = Math.max(0, query.offset ?? 0);
    const charts: { metric: string; section: string }[] = [];
    let total = 0;
    // Unfiltered, the count is known: a million names are not walked past the page asked for.
    const known = query.filter === undefined ? this.charts.size + this.catalog.listed() : undefined;
    const deadline = performance.now() + (query.budgetMs ?? FILTER_BUDGET_MS);
    let searched = 0;
    let stopped = false;
    for (const chart of this.listing()) {
      if (query.filter !== undefined) {
        if ((searched & 1023) === 1023 && performance.now() > deadline) {
          stopped = true;
          break;
        }
        searched++;
        if (!query.filter.test(chart.metric)) continue;
      }
      if (total >= offset && charts.length < limit)
        charts.push({ metric: chart.metric, section: chart.section });
      total++;
      if (known !== undefined && charts.length === limit) break;
    }
    if (known !== undefined) total = known;
    return {
      version: this.version,
      runs: [...this.runs.values()],
      charts,
      total,
      offset,
      ...(query.filter === undefined ? {} : { searched, stopped }),
      malformed: this.malformed,
      catalog: this.catalog.counters(),
      buckets: this.buckets.counters(),
    };
  }

  /** Held charts and catalog names merged in page order (catalog charts are all `scalars`). */
  private *listing(): Generator<{ metric: string; section: string }> {
    const held = this.sorted();
    let h = 0;
    for (const metric of this.catalog.names()) {
      for (; h < held.length; h++) {
        const chart = held[h] as Chart;
        if (
          compareSections(chart.section, 'scalars') > 0 ||
          (chart.section === 'scalars' && chart.metric >= metric)
        )
          break;
        yield chart;
      }
      yield { metric, section: 'scalars' };
    }
    for (; h < held.length; h++) yield held[h] as Chart;
  }

  /** Every chart in page order, sorted again only after charts were added. */
  private sorted(): readonly Chart[] {
    if (this.order === undefined || this.order.length !== this.charts.size)
      this.order = [...this.charts.values()].sort(
        (a, b) =>
          compareSections(a.section, b.section) || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0),
      );
    return this.order;
  }

  private addRun(name: string): RunModel {
    const run = { name, color: colorOf(this.runs.size), ranks: [] };
    this.runs.set(name, run);
    this.structure = true;
    return run;
  }
}
