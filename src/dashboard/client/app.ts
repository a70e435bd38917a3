/**
 * The page: toolbar, run legend, a pinned area, then the charts by section. Charts are drawn when
 * their data arrives and redrawn when the controls change or the server says they grew. The body
 * carries `data-ready` once every chart of the first index is drawn (for tests and benchmarks).
 */
import type { IndexModel } from '../chart-model.js';
import { CHART_WIDTH, ChartView } from './chart-view.js';
import { el } from './dom.js';
import type { Change, DataSource } from './sources.js';
import { runLegend, toolbar } from './toolbar.js';
import { initialState, matchesFilter } from './view-state.js';

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
    );
    this.applyIndex(index);
    await Promise.all(index.charts.map((c) => this.refresh(c.metric)));
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

  private applyIndex(index: IndexModel): void {
    this.index = index;
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
    if (this.index !== undefined)
      this.legendHolder.replaceChildren(runLegend(this.index.runs, this.state, () => this.renderAll()));
    for (const view of this.views.values()) {
      view.root.hidden = !matchesFilter(view.model.metric, this.state);
      view.render();
    }
  }

  private async refresh(metric: string): Promise<void> {
    const zoom = this.zooms.get(metric);
    // A zoom asks for the plot's own pixel columns: that decides how finely the server reads.
    const width = zoom === undefined ? CHART_WIDTH : (this.views.get(metric)?.pixelWidth() ?? CHART_WIDTH);
    const model = await this.source.chart(metric, width, zoom);
    const view = this.views.get(metric);
    if (model === undefined || view === undefined) return;
    view.update(model);
    view.root.dataset.renderedAt = String(Date.now());
  }

  private onChange(change: Change): void {
    for (const metric of change.metrics) this.dirty.add(metric);
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
    if (structure) this.applyIndex(await this.source.index());
    while (this.dirty.size > 0) {
      const metrics = [...this.dirty];
      this.dirty.clear();
      await Promise.all(metrics.map((m) => this.refresh(m)));
    }
  }
}
