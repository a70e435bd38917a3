/**
 * One chart on the page: a titled card carrying `data-metric` and `data-points` (the finite points
 * drawn), a uPlot canvas with drag-to-zoom and double-click reset, markers at the plot's edge for
 * non-finite values, a legend with their counts, a hover readout, and pin and CSV buttons. Every
 * name goes into the page as text (textContent), never as HTML.
 */
import uPlot from 'uplot';
import type { ChartModel, SeriesModel } from '../chart-model.js';
import { chartCsv } from './csv.js';
import { el } from './dom.js';
import { formatDuration, formatTick, formatValue, nonFiniteText } from './format.js';
import { linePath } from './line-path.js';
import { drawMarks } from './marks.js';
import { plotData } from './plot-data.js';
import { formatWall, NEAR_PX, nearestPoint, pointPlace } from './readout.js';
import { axisUnit, type AxisUnit } from './units.js';
import { chartMode, isSystemChart, visibleSeries, type ChartMode, type ViewState } from './view-state.js';

export const CHART_WIDTH = 560;
/**
 * Rows a chart's lines are aligned on, per pixel of its width, at the most (align.ts): the server
 * sends at most two points a pixel column a line, and two rows a pixel keep a line's points within
 * a pixel and a half of their steps. Under four rows a pixel uPlot draws each point as it is, rather
 * than merging the rows of each pixel again (its decimation, 40 % of the drawing of 100 runs).
 */
export const ALIGN_ROWS_PER_PIXEL = 2;
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
  private pointIndex: (k: number) => (number | null)[] = () => [];
  private spacing: (k: number) => number = () => 0;
  private mode: ChartMode = { mode: 'step', smoothing: 0 };
  private unit: AxisUnit = axisUnit(undefined, '');

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
    const mode = chartMode(this.model, this.state);
    const unit = axisUnit(this.model.unit, this.model.metric);
    this.mode = mode;
    this.unit = unit;
    // Read once: each read of the card's width lays out the page again (after the chart before
    // this one was drawn), and a page of 100 runs' legends is a big layout.
    const width = this.plotWidth();
    const plot = plotData(this.visible, this.state, mode, ALIGN_ROWS_PER_PIXEL * width);
    // A chart without bands draws its lines with the one-loop builder (line-path.ts); a band's fill
    // needs uPlot's own, which also clips the band by its edges.
    if (plot.bands.length === 0) for (const series of plot.series.slice(1)) series.paths = linePath;
    this.lineColumn = plot.lineColumn;
    this.pointIndex = plot.pointIndex;
    this.spacing = plot.spacing;
    this.plot?.destroy();
    const state = this.state;
    const visible = this.visible;
    const xMode = mode.mode;
    const xTitle =
      xMode === 'wall'
        ? 'wall time'
        : xMode === 'relative'
          ? 'time since start'
          : xMode === 'sample'
            ? 'sample'
            : isSystemChart(this.model)
              ? 'training step'
              : 'step';
    const opts: uPlot.Options = {
      width,
      height: CHART_HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: true, y: false } },
      scales: {
        // A zoomed window shows exactly the steps chosen, not the extent of the buckets meeting it.
        x:
          this.model.window !== undefined && xMode === 'step'
            ? { time: false, range: this.model.window }
            : { time: xMode === 'wall' },
        y: { distr: state.logY ? 3 : 1 },
      },
      axes: [
        xMode === 'wall'
          ? { label: xTitle, labelSize: 18 }
          : {
              label: xTitle,
              labelSize: 18,
              values: (_u, ticks) =>
                ticks.map((t) =>
                  t === null ? '' : xMode === 'relative' ? formatDuration(t) : formatTick(t),
                ),
            },
        {
          label: unit.title,
          labelSize: 18,
          ...(unit.incrs !== undefined && !state.logY
            ? {
                incrs: (_u: uPlot, _axis: number, min: number, max: number) =>
                  (unit.incrs as (largest: number) => number[])(Math.max(Math.abs(min), Math.abs(max))),
              }
            : {}),
          // A log axis hands null for the ticks it leaves unlabelled, and no even spacing.
          values: (_u, ticks, _axis, _space, incr) => {
            const labels = state.logY
              ? ticks.map((t) =>
                  t === null ? '' : this.model.unit === undefined ? formatTick(t) : unit.value(t),
                )
              : unit.ticks(ticks, incr);
            // The labels drawn on the canvas, where a page (or a test) can read them.
            this.root.dataset.yTicks = labels.join(' | ');
            return labels;
          },
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
        draw: [(u) => drawMarks(u, visible, xMode)],
        setCursor: [(u) => this.showReadout(u)],
        setSelect: [
          (u) => {
            // The server's zoom is a range of the series' own steps: not a system chart's x.
            if (u.select.width <= 0 || xMode !== 'step' || isSystemChart(this.model)) return;
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
    this.root.dataset.axes = `${xTitle} | ${unit.title}`;
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
    const left = u.cursor.left;
    if (left === undefined || left < 0 || u.data[0].length === 0) {
      this.readout.textContent = '\u00a0';
      return;
    }
    const x = u.posToVal(left, 'x');
    const xMode = this.mode.mode;
    const xText =
      xMode === 'wall'
        ? formatWall(x)
        : xMode === 'relative'
          ? formatDuration(x)
          : `${xMode === 'sample' ? 'sample' : 'step'} ${formatValue(Math.round(x))}`;
    // A line answers only with a point near the cursor: within a few pixels, or within its own
    // spacing (a sparse line, an eval every 50 steps); a run that ended before the cursor, starts
    // after it or has a gap there is left out, not shown with a stale value.
    const pixels = Math.abs(u.posToVal(left + NEAR_PX, 'x') - x);
    const xs = u.data[0];
    const parts = this.visible.flatMap((s, i) => {
      const column = u.data[this.lineColumn[i] as number] as (number | null)[];
      const row = nearestPoint(xs, column, x, Math.max(pixels, this.spacing(i)));
      if (row === null) return [];
      const smoothedColumn =
        this.mode.smoothing > 0
          ? (u.data[(this.lineColumn[i] as number) + 1] as (number | null)[])
          : undefined;
      const v = column[row] as number;
      const sv = smoothedColumn?.[row] ?? null;
      const text = this.unit.value(v);
      let value = sv === null ? text : `${this.unit.value(sv)} (raw ${text})`;
      if (s.band) {
        // The band's edges follow the median's line columns: max, then min (plot-data.ts).
        const hiColumn = (this.lineColumn[i] as number) + (smoothedColumn === undefined ? 1 : 2);
        const hi = (u.data[hiColumn] as (number | null)[])[row];
        const lo = (u.data[hiColumn + 1] as (number | null)[])[row];
        if (hi !== null && hi !== undefined && lo !== null && lo !== undefined)
          value += `, ranks ${this.unit.value(lo)}–${this.unit.value(hi)}`;
      }
      const point = this.pointIndex(i)[row];
      const place = point === null || point === undefined ? '' : pointPlace(s, point, xMode);
      return [`${s.label}: ${value}${place === '' ? '' : ` at ${place}`}`];
    });
    this.readout.textContent = `${xText} · ${parts.length === 0 ? 'no point here' : parts.join(' · ')}`;
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
