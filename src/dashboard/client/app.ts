/**
 * The page: toolbar, run legend, a pinned area, then the charts by section. Charts are drawn when
 * their data arrives and redrawn when the controls change or the server says they grew. A live
 * page fetches a chart only once it is on screen (off screen it is a card with its title, loaded
 * when scrolled into view), and lists a page of the server's charts (the filter box searches the
 * rest there). The body carries `data-ready` once every chart on screen at the first render is
 * drawn (for tests and benchmarks).
 */
import type { IndexModel } from '../chart-model.js';
import { CHART_WIDTH, ChartView } from './chart-view.js';
import { el } from './dom.js';
import type { Change, DataSource } from './sources.js';
import { runLegend, toolbar } from './toolbar.js';
import { initialState, matchesFilter } from './view-state.js';
import { warmUpChart } from './warm-up.js';

/** Charts a live page lists at first (the server lists at most its own bound, 1000). */
const MIN_LISTED = 1000;

export class App {
  private readonly state = initialState();
  private readonly views = new Map<string, ChartView>();
  private readonly sections = new Map<string, HTMLElement>();
  private readonly pinned = el(
    'section',
    { class: 'dash-section dash-pinned', hidden: '' },
    el('h2', {}, 'pinned'),
  );
  private readonly body = el('div', { class: 'dash-sections' });
  private readonly legendHolder = el('div', { class: 'dash-runs-holder' });
  private readonly status = el('span', { class: 'dash-status' });
  private index: IndexModel | undefined;
  private readonly dirty = new Set<string>();
  /** Step ranges of zoomed charts: their updates ask the server for that range only. */
  private readonly zooms = new Map<string, [number, number]>();
  /** The chain of update rounds (see onChange); the run's end waits for it. */
  private updates: Promise<void> = Promise.resolve();
  /** Charts fetched at least once: the ones that have been on screen (a static report: all). */
  private readonly loaded = new Set<string>();
  /** Loads a live page's charts as they come on screen. */
  private observer: IntersectionObserver | undefined;
  /** The filter the listed charts were searched with on the server, and how many are listed. */
  private listedFilter = '';
  private readonly more = el('p', { class: 'dash-more', hidden: '' });

  constructor(
    private readonly root: HTMLElement,
    private readonly source: DataSource,
  ) {}

  async start(title: string): Promise<void> {
    const index = await this.source.index();
    const hasTime = !this.source.live ? index.charts.length > 0 && (await this.anyTime()) : true;
    this.root.append(
      el('header', { class: 'dash-header' }, el('h1', {}, title), this.status),
      toolbar(this.state, hasTime, () => this.renderAll()),
      this.legendHolder,
      this.pinned,
      this.body,
      this.more,
    );
    if (this.source.live && typeof IntersectionObserver === 'function')
      this.observer = new IntersectionObserver((entries) => this.cameIntoView(entries), {
        rootMargin: '200px 0px',
      });
    this.applyIndex(index);
    const first = this.observer === undefined ? index.charts.map((c) => c.metric) : this.onScreen();
    const loads = first.map((metric) => this.load(metric));
    // Drawn while the first charts' answers are on their way (asked above), not while the index
    // was: the server answers the index within a few ms now, and its charts take longer.
    if (this.source.live) warmUpChart(this.root, this.state);
    await Promise.all(loads);
    document.body.dataset.ready = 'true';
    this.source.subscribe({
      change: (change) => this.onChange(change),
      status: (connection, text) => {
        this.status.textContent = text;
        this.status.dataset.connection = connection;
        document.body.dataset.connection = connection;
      },
      // Every change before the end is in the queue: its rounds done, the page has the last rows.
      finished: () => this.updates,
    });
  }

  private async anyTime(): Promise<boolean> {
    const first = this.index?.charts[0] ?? (await this.source.index()).charts[0];
    if (first === undefined) return false;
    const chart = await this.source.chart(first.metric, CHART_WIDTH);
    return chart?.series.some((s) => s.ts.length > 0) ?? false;
  }

  private readonly empty = el('p', { class: 'dash-empty' });

  /** Charts whose card is in the window now (one layout, before any chart is drawn). */
  private onScreen(): string[] {
    const height = window.innerHeight;
    return [...this.views.values()]
      .filter((view) => {
        if (view.root.hidden) return false;
        const box = view.root.getBoundingClientRect();
        return box.bottom > 0 && box.top < height;
      })
      .map((view) => view.model.metric);
  }

  private cameIntoView(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const metric = (entry.target as HTMLElement).dataset.metric;
      if (!entry.isIntersecting || metric === undefined || this.loaded.has(metric)) continue;
      this.load(metric).catch((error: unknown) => {
        this.loaded.delete(metric);
        this.status.textContent = `loading ${metric} failed: ${error instanceof Error ? error.message : String(error)}`;
      });
    }
  }

  /** Fetches a chart for the first time. */
  private load(metric: string): Promise<void> {
    this.loaded.add(metric);
    return this.refresh(metric);
  }

  /** The server's charts matching the filter box, as many as are listed now or a page. */
  private async listCharts(offset = 0): Promise<IndexModel> {
    const filter = this.state.filter?.source ?? '';
    const limit = Math.max(MIN_LISTED, offset === 0 ? this.views.size : 0);
    return this.source.index({ filter, offset, limit });
  }

  /** Says when the server has more charts than are listed, with a button for the next page. */
  private showMore(index: IndexModel): void {
    const total = index.total ?? index.charts.length;
    const listed = (index.offset ?? 0) + index.charts.length;
    if (index.stopped === true) {
      // The server's search ran out of time: what matched so far is listed, the rest not searched.
      this.more.hidden = false;
      this.more.replaceChildren(
        `the search stopped at its time limit after ${(index.searched ?? 0).toLocaleString('en')} names ` +
          `(${total.toLocaleString('en')} matched); refine the filter`,
      );
      return;
    }
    this.more.hidden = listed >= total;
    if (this.more.hidden) return;
    const next = el('button', { type: 'button', class: 'dash-more-button' }, 'list more');
    next.addEventListener('click', () => {
      this.listCharts(listed).then(
        (page) => this.applyIndex(page),
        (error: unknown) => {
          this.status.textContent = `listing failed: ${error instanceof Error ? error.message : String(error)}`;
        },
      );
    });
    this.more.replaceChildren(
      `${listed.toLocaleString('en')} of ${total.toLocaleString('en')} charts listed; refine the filter or `,
      next,
    );
  }

  private applyIndex(index: IndexModel): void {
    this.index = index;
    this.showMore(index);
    // An empty folder is a run not started yet, not a broken page.
    this.empty.textContent =
      index.charts.length === 0 ? `waiting for runs in ${(index.inputs ?? ['the inputs']).join(', ')}` : '';
    this.empty.hidden = index.charts.length > 0;
    if (this.empty.parentElement === null) this.body.prepend(this.empty);
    this.legendHolder.replaceChildren(runLegend(index.runs, this.state, () => this.renderAll()));
    for (const { metric, section } of index.charts) {
      if (this.views.has(metric)) continue;
      const view = new ChartView({ metric, section, series: [] }, this.state, {
        togglePin: (m) => this.togglePin(m),
        toggleRun: (run) => {
          if (this.state.hiddenRuns.has(run)) this.state.hiddenRuns.delete(run);
          else this.state.hiddenRuns.add(run);
          this.renderAll();
        },
        zoom: (m, range) => {
          if (range === undefined) this.zooms.delete(m);
          else this.zooms.set(m, range);
          if (!this.source.live) return;
          this.refresh(m).catch((error: unknown) => {
            this.status.textContent = `zoom failed: ${error instanceof Error ? error.message : String(error)}`;
          });
        },
      });
      this.views.set(metric, view);
      this.place(view);
      this.observer?.observe(view.root);
    }
  }

  private sectionOf(name: string): HTMLElement {
    let section = this.sections.get(name);
    if (section === undefined) {
      section = el(
        'section',
        { class: 'dash-section', 'data-section': name },
        el('h2', {}, name),
        el('div', { class: 'dash-grid' }),
      );
      this.sections.set(name, section);
      this.body.append(section);
    }
    return section.lastElementChild as HTMLElement;
  }

  private place(view: ChartView): void {
    const pinned = this.state.pinned.has(view.model.metric);
    const grid = pinned
      ? this.pinned.lastElementChild?.classList.contains('dash-grid')
        ? (this.pinned.lastElementChild as HTMLElement)
        : this.pinned.appendChild(el('div', { class: 'dash-grid' }))
      : this.sectionOf(view.model.section);
    // Sorted by name within a grid: the order is the same whatever order the charts arrived in.
    const after = [...grid.children].find(
      (child) => ((child as HTMLElement).dataset.metric ?? '') > view.model.metric,
    );
    grid.insertBefore(view.root, after ?? null);
    this.pinned.hidden = this.state.pinned.size === 0;
    view.root.hidden = !matchesFilter(view.model.metric, this.state);
  }

  private togglePin(metric: string): void {
    if (this.state.pinned.has(metric)) this.state.pinned.delete(metric);
    else this.state.pinned.add(metric);
    const view = this.views.get(metric);
    if (view === undefined) return;
    this.place(view);
    view.render();
  }

  private renderAll(): void {
    const filter = this.state.filter?.source ?? '';
    // The server lists a page of its charts: a new filter searches all of them there.
    if (this.source.live && filter !== this.listedFilter) {
      this.listedFilter = filter;
      this.listCharts().then(
        (index) => this.applyIndex(index),
        (error: unknown) => {
          this.status.textContent = `search failed: ${error instanceof Error ? error.message : String(error)}`;
        },
      );
    }
    if (this.index !== undefined)
      this.legendHolder.replaceChildren(runLegend(this.index.runs, this.state, () => this.renderAll()));
    for (const view of this.views.values()) {
      view.root.hidden = !matchesFilter(view.model.metric, this.state);
      if (this.loaded.has(view.model.metric)) view.render();
    }
  }

  private async refresh(metric: string): Promise<void> {
    const view = this.views.get(metric);
    const zoom = this.zooms.get(metric);
    // About one bucket per pixel column of the chart as laid out; a zoom asks for the plot's own
    // pixel columns, which decide how finely the server reads.
    const width =
      zoom === undefined ? (view?.plotWidth() ?? CHART_WIDTH) : (view?.pixelWidth() ?? CHART_WIDTH);
    const model = await this.source.chart(metric, width, zoom);
    if (model === undefined || view === undefined) return;
    view.update(model);
    view.root.dataset.renderedAt = String(Date.now());
  }

  private onChange(change: Change): void {
    // Charts never on screen are fetched when they come into view, with what is new by then.
    for (const metric of change.metrics) if (this.loaded.has(metric)) this.dirty.add(metric);
    if (change.more === true) for (const metric of this.loaded) this.dirty.add(metric);
    // One round at a time, in order; a round finds every chart dirtied since the last one, so
    // changes that arrive meanwhile are fetched together. A failed fetch (server gone) is shown;
    // the next change event tries again.
    this.updates = this.updates
      .then(() => this.drain(change.structure))
      .catch((error: unknown) => {
        this.status.textContent = `update failed: ${error instanceof Error ? error.message : String(error)}`;
      });
  }

  private async drain(structure: boolean): Promise<void> {
    if (structure) this.applyIndex(await this.listCharts());
    while (this.dirty.size > 0) {
      const metrics = [...this.dirty];
      this.dirty.clear();
      await Promise.all(metrics.map((m) => this.refresh(m)));
    }
  }
}
