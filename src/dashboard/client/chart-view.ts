/**
 * One chart on the page: a titled card carrying `data-metric` and `data-points` (the finite points
 * drawn), a uPlot canvas with drag-to-zoom and double-click reset, markers at the plot's edge for
 * non-finite values, a legend with their counts, a hover readout, and pin and CSV buttons. Every
 * name goes into the page as text (textContent), never as HTML.
 */
import uPlot from 'uplot';
import type { ChartModel, SeriesModel } from '../chart-model.js';
import { valueAtOrBefore } from './align.js';
import { chartCsv } from './csv.js';
import { el } from './dom.js';
import { formatDuration, formatTick, formatValue, nonFiniteText } from './format.js';
import { drawMarks } from './marks.js';
import { plotData } from './plot-data.js';
import { visibleSeries, type ViewState } from './view-state.js';

export const CHART_WIDTH = 560;
const CHART_HEIGHT = 240;

export interface ChartCallbacks {
  togglePin(metric: string): void;
  toggleRun(run: string): void;
  /** The user zoomed to a step range (undefined: reset); the server can send finer data for it. */
  zoom(metric: string, range: [number, number] | undefined): void;
}

export class ChartView {
  readonly root: HTMLElement;
  private plot: uPlot | undefined;
  private readonly canvasHolder: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly pinButton: HTMLButtonElement;
  private visible: SeriesModel[] = [];
  private lineColumn: number[] = [];

  constructor(
    public model: ChartModel,
    private readonly state: ViewState,
    private readonly callbacks: ChartCallbacks,
  ) {
    this.root = el('div', { class: 'dash-chart', 'data-metric': model.metric, 'data-points': '0' });
    const title = el('h3', { class: 'dash-title' }, model.metric);
    this.pinButton = el(
      'button',
      { type: 'button', class: 'dash-pin', title: 'pin this chart to the top' },
      'pin',
    );
    this.pinButton.addEventListener('click', () => callbacks.togglePin(model.metric));
    const csv = el(
      'button',
      { type: 'button', class: 'dash-csv', title: 'download this chart as CSV' },
      'CSV',
    );
    csv.addEventListener('click', () => this.downloadCsv());
    this.canvasHolder = el('div', { class: 'dash-canvas' });
    this.legend = el('ul', { class: 'dash-legend' });
    this.readout = el('div', { class: 'dash-readout' }, '\u00a0');
    this.root.append(
      el('div', { class: 'dash-head' }, title, this.pinButton, csv),
      this.canvasHolder,
      this.legend,
      this.readout,
    );
  }

  /** The plot's width in pixels: the grid cell's (columns share the whole window). */
  plotWidth(): number {
    return this.root.clientWidth > 0 ? Math.max(240, this.root.clientWidth - 18) : CHART_WIDTH;
  }

  /** New data from the server (or the first data); redraws. */
  update(model: ChartModel): void {
    this.model = model;
    // Rows the page holds for this chart (before downsampling): what a live page must not lose.
    this.root.dataset.rows = String(model.series.reduce((rows, series) => rows + series.points, 0));
    // How a zoomed window was read (exact rows, index envelopes, held buckets); empty: the overview.
    this.root.dataset.zoom = [...new Set(model.series.map((s) => s.zoom?.mode ?? ''))].join(' ').trim();
    this.render();
  }

  /** Draws from scratch: after new data or a change of controls. */
  render(): void {
    this.pinButton.textContent = this.state.pinned.has(this.model.metric) ? 'unpin' : 'pin';
    this.visible = visibleSeries(this.model, this.state);
    const plot = plotData(this.visible, this.state);
    this.lineColumn = plot.lineColumn;
    this.plot?.destroy();
    const state = this.state;
    const visible = this.visible;
    const xTitle =
      state.xMode === 'wall' ? 'wall time' : state.xMode === 'relative' ? 'time since start' : 'step';
    const opts: uPlot.Options = {
      width: this.plotWidth(),
      height: CHART_HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: true, y: false } },
      scales: {
        // A zoomed window shows exactly the steps chosen, not the extent of the buckets meeting it.
        x:
          this.model.window !== undefined && state.xMode === 'step'
            ? { time: false, range: this.model.window }
            : { time: state.xMode === 'wall' },
        y: { distr: state.logY ? 3 : 1 },
      },
      axes: [
        state.xMode === 'wall'
          ? { label: xTitle, labelSize: 18 }
          : {
              label: xTitle,
              labelSize: 18,
              values: (_u, ticks) =>
                ticks.map((t) =>
                  t === null ? '' : state.xMode === 'relative' ? formatDuration(t) : formatTick(t),
                ),
            },
        // A log axis hands null for the ticks it leaves unlabelled.
        {
          label: this.model.metric,
          labelSize: 18,
          values: (_u, ticks) => ticks.map((t) => (t === null ? '' : formatTick(t))),
          // As wide as the longest label, so none is clipped (`2.5e+19`, `-0.000123`).
          size: (_u, values) =>
            values === null || values === undefined
              ? 64
              : Math.max(40, ...values.map((v) => String(v).length * 7 + 18)),
        },
      ],
      series: plot.series,
      bands: plot.bands,
      hooks: {
        draw: [(u) => drawMarks(u, visible, state.xMode)],
        setCursor: [(u) => this.showReadout(u)],
        setSelect: [
          (u) => {
            if (u.select.width <= 0 || state.xMode !== 'step') return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            this.callbacks.zoom(this.model.metric, [Math.min(from, to), Math.max(from, to)]);
          },
        ],
      },
    };
    this.plot = new uPlot(opts, plot.data, this.canvasHolder);
    this.plot.over.addEventListener('dblclick', () => this.callbacks.zoom(this.model.metric, undefined));
    this.root.dataset.points = String(plot.points);
    this.root.dataset.axes = `${xTitle} | ${this.model.metric}`;
    this.root.dataset.series = String(this.visible.length);
    this.renderLegend();
  }

  /** Pixel columns of the plot area (device pixels), for a zoom's request. */
  pixelWidth(): number {
    return Math.round(this.plot?.bbox.width ?? CHART_WIDTH);
  }

  destroy(): void {
    this.plot?.destroy();
    this.root.remove();
  }

  private renderLegend(): void {
    this.legend.replaceChildren(
      ...this.visible.map((s) => {
        const counts = nonFiniteText(s.nan, s.posInf, s.negInf);
        const item = el('li', { class: 'dash-legend-item', title: 'click to hide this run' });
        const swatch = el('span', { class: s.dashed ? 'dash-swatch dash-dashed' : 'dash-swatch' });
        swatch.style.borderColor = s.color;
        item.append(swatch, el('span', {}, s.band ? `${s.label} (median, min–max of ranks)` : s.label));
        if (counts !== '') item.append(el('span', { class: 'dash-nonfinite' }, ` ${counts}`));
        item.addEventListener('click', () => this.callbacks.toggleRun(s.run));
        return item;
      }),
    );
  }

  private showReadout(u: uPlot): void {
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined) {
      this.readout.textContent = '\u00a0';
      return;
    }
    const x = u.data[0][idx] as number;
    const xText =
      this.state.xMode === 'wall'
        ? new Date(x * 1000).toISOString()
        : this.state.xMode === 'relative'
          ? formatDuration(x)
          : `step ${formatValue(x)}`;
    // A run that ended before the cursor (or starts after it) has no value there: it is left out
    // rather than shown with its last value.
    const covers = (s: SeriesModel): boolean => {
      const xs = this.state.xMode === 'step' ? s.step : this.state.xMode === 'wall' ? s.ts : undefined;
      if (xs === undefined || xs.length === 0) return true;
      return x >= (xs[0] as number) && x <= (xs[xs.length - 1] as number);
    };
    const parts = this.visible.flatMap((s, i) => {
      if (!covers(s)) return [];
      const column = u.data[this.lineColumn[i] as number] as (number | null)[];
      const smoothedColumn =
        !s.band && this.state.smoothing > 0
          ? (u.data[(this.lineColumn[i] as number) + 1] as (number | null)[])
          : undefined;
      const v = valueAtOrBefore(column, idx);
      const sv = smoothedColumn === undefined ? null : valueAtOrBefore(smoothedColumn, idx);
      const text = v === null ? '—' : formatValue(v);
      return [`${s.label}: ${sv === null ? text : `${formatValue(sv)} (raw ${text})`}`];
    });
    this.readout.textContent = `${xText} · ${parts.join(' · ')}`;
  }

  private downloadCsv(): void {
    const blob = new Blob([chartCsv(this.model)], { type: 'text/csv' });
    const link = el('a', {
      href: URL.createObjectURL(blob),
      download: `${this.model.metric.replace(/[^\w.-]+/g, '_')}.csv`,
    });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }
}
