/**
 * The `/api/zoom` answer: one chart over a step window, each series read for that window through
 * its stream's run index (zoom-reader.ts): every row as logged when the window is small, else
 * index buckets of about one per pixel column drawn as min/max envelopes. A series with no stream
 * index (TensorBoard, W&B) is cut from the buckets the dashboard holds. Legend counts stay those
 * of the whole series.
 */
import { BucketSeries } from '../bucket-series.js';
import { MAX_WIDTH, MIN_WIDTH, model, sortedLines } from '../chart-data.js';
import {
  NF_NAN,
  NF_NEG_INF,
  NF_POS_INF,
  type ChartModel,
  type SeriesModel,
  type ZoomInfo,
} from '../chart-model.js';
import { bandLine, pixelLine, type PixelLine } from '../pixel-downsample.js';
import type { SeriesStore } from '../series-store.js';
import type { SeriesOrigins } from './series-origin.js';
import { type ExactRows, type ZoomedSeries, type ZoomReader } from './zoom-reader.js';

export interface ZoomQuery {
  width: number;
  from: number;
  to: number;
}

/** Every row of the window: finite values as the line, non-finite ones as marks at their steps. */
function exactLine(rows: ExactRows): PixelLine {
  const out: PixelLine = { step: [], ts: [], y: [], marks: [] };
  rows.value.forEach((v, i) => {
    const step = rows.step[i] as number;
    const ts = rows.ts[i] as number;
    if (Number.isFinite(v)) {
      out.step.push(step);
      out.ts.push(ts);
      out.y.push(v);
    } else out.marks.push([step, ts, Number.isNaN(v) ? NF_NAN : v > 0 ? NF_POS_INF : NF_NEG_INF]);
  });
  return out;
}

/** The zoomed data as a BucketSeries (for rank bands and envelopes). */
function asBuckets(zoomed: ZoomedSeries): BucketSeries {
  const s = new BucketSeries();
  if (zoomed.mode === 'envelope') s.append(zoomed.state);
  else zoomed.value.forEach((v, i) => s.add(zoomed.step[i] as number, zoomed.ts[i] as number, v));
  return s;
}

function info(zoomed: ZoomedSeries | undefined, memory: BucketSeries): ZoomInfo {
  if (zoomed === undefined) return { mode: 'memory', rows: memory.points };
  if (zoomed.mode === 'exact') return { mode: 'exact', rows: zoomed.value.length };
  return { mode: 'envelope', rows: zoomed.state.points, level: zoomed.level };
}

export async function zoomData(
  store: SeriesStore,
  origins: SeriesOrigins,
  reader: ZoomReader,
  metric: string,
  query: ZoomQuery,
): Promise<ChartModel | undefined> {
  const chart = store.chart(metric);
  if (chart === undefined) return undefined;
  const width = Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.round(query.width)));
  const { from, to } = query;
  const budget = reader.budget();
  const series: SeriesModel[] = [];
  for (const line of sortedLines(chart)) {
    const color = store.runs.get(line.run)?.color ?? '#444';
    const ranks = [...line.ranks].sort((a, b) => a[0] - b[0]);
    const zoomed: (ZoomedSeries | undefined)[] = [];
    for (const [, s] of ranks) {
      const streams = origins.of(s);
      zoomed.push(
        streams.length === 0 ? undefined : await reader.read(streams, from, to, width, budget, s.points),
      );
    }
    const lineOf = (z: ZoomedSeries | undefined, s: BucketSeries): PixelLine =>
      z === undefined
        ? pixelLine(s, width, from, to)
        : z.mode === 'exact'
          ? exactLine(z)
          : pixelLine(asBuckets(z), width, from, to);
    if (ranks.length === 1) {
      const only = ranks[0]?.[1] as BucketSeries;
      const z = zoomed[0];
      series.push(model(line, lineOf(z, only), { zoom: info(z, only) }, color, [only]));
      continue;
    }
    const members = ranks.map(([, s], i) => {
      const z = zoomed[i];
      return z === undefined ? s : asBuckets(z);
    });
    const band = bandLine(members, width, from, to);
    const all = ranks.map(([, s]) => s);
    const rows = members.reduce((sum, m) => sum + m.points, 0);
    const mode = zoomed.every((z) => z?.mode === 'exact')
      ? 'exact'
      : zoomed.some((z) => z === undefined)
        ? 'memory'
        : 'envelope';
    series.push(
      model(line, band, { band: true, lo: band.lo, hi: band.hi, zoom: { mode, rows } }, color, all),
    );
    ranks.forEach(([rank, s], i) =>
      series.push(model(line, lineOf(zoomed[i], s), { rank, zoom: info(zoomed[i], s) }, color, [s])),
    );
  }
  return { metric: chart.metric, section: chart.section, series, window: [from, to] };
}
