/**
 * A line's path for uPlot in one loop: the same segments as uPlot's own `linear` builder draws for
 * a plain line on linear scales (no fill, no band, gaps spanned, fewer than 4 points a pixel column,
 * as the server's buckets are; chart-view.ts gives it only to the lines of a chart without bands),
 * with each point's pixel worked out inline. uPlot's builder makes four calls a point (value to
 * position on each axis, rounding, the segment); for the 1,200 lines of a first render of 100 runs
 * that was 277 ms of the page's 1.4 s of script in a chromium CPU profile. Anything else, a log
 * axis or a line dense enough for uPlot to thin, goes to uPlot's builder.
 */
import uPlot from 'uplot';

/** Points a pixel column from which uPlot thins a line itself (its `linear` builder): left to it. */
const UPLOT_THINS_FROM = 4;

const uPlotLinear = uPlot.paths.linear?.() as uPlot.Series.PathBuilder;

/** uPlot's "clip the band's fill with this path" flag (BAND_CLIP_FILL), as its own builder sets. */
const BAND_CLIP_FILL = 1;

/** uPlot keeps a series' fill as a function (of null when none was given). */
function noFill(u: uPlot, seriesIdx: number, fill: uPlot.Series['fill']): boolean {
  return (typeof fill === 'function' ? fill(u, seriesIdx) : fill) == null;
}

/** A line's series and the scales it is drawn on. */
function placeOf(
  u: uPlot,
  seriesIdx: number,
): { series: uPlot.Series; xScale: uPlot.Scale; yScale: uPlot.Scale } {
  const series = u.series[seriesIdx] as uPlot.Series;
  return {
    series,
    xScale: u.scales[u.series[0]?.scale ?? 'x'] as uPlot.Scale,
    yScale: u.scales[series.scale ?? 'y'] as uPlot.Scale,
  };
}

/** Whether `linePath` draws this line itself (else uPlot's builder does). */
export function drawsItself(u: uPlot, seriesIdx: number, idx0: number, idx1: number): boolean {
  const { series, xScale, yScale } = placeOf(u, seriesIdx);
  return (
    xScale.distr === 1 &&
    yScale.distr === 1 &&
    xScale.ori === 0 &&
    (xScale.dir ?? 1) === 1 &&
    (yScale.dir ?? 1) === 1 &&
    noFill(u, seriesIdx, series.fill) &&
    series.spanGaps === true &&
    (series.pxAlign ?? 1) === 1 &&
    idx1 - idx0 < u.bbox.width * UPLOT_THINS_FROM
  );
}

/** The builder to give a line series as `paths`. */
export const linePath: uPlot.Series.PathBuilder = (u, seriesIdx, idx0, idx1) => {
  if (!drawsItself(u, seriesIdx, idx0, idx1)) return uPlotLinear(u, seriesIdx, idx0, idx1);
  const { xScale, yScale } = placeOf(u, seriesIdx);
  const { left, top, width, height } = u.bbox;
  const xs = u.data[0];
  const ys = u.data[seriesIdx] as (number | null | undefined)[];
  const xMin = xScale.min as number;
  const yMin = yScale.min as number;
  const kx = width / ((xScale.max as number) - xMin);
  const ky = height / ((yScale.max as number) - yMin);
  const bottom = top + height;
  const stroke = new Path2D();
  for (let i = idx0; i <= idx1; i++) {
    const y = ys[i];
    // uPlot's `yVal != null`: a missing point is skipped, the line spans it (spanGaps).
    if (y === null || y === undefined) continue;
    // uPlot's pxRound for the default pxAlign (1) is Math.round.
    stroke.lineTo(Math.round(left + ((xs[i] as number) - xMin) * kx), Math.round(bottom - (y - yMin) * ky));
  }
  return { stroke, fill: null, clip: null, band: null, flags: BAND_CLIP_FILL };
};
