/**
 * One inline SVG line chart per metric: no scripts, no external resources, so the report opens
 * offline and prints. Non-finite points break the line rather than bend it to an axis.
 */
export interface ChartSeries {
  label: string;
  color: string;
  steps: readonly number[];
  values: readonly number[];
  dashed?: boolean;
}

const WIDTH = 480;
const HEIGHT = 180;
const PAD = { left: 64, right: 12, top: 12, bottom: 28 };

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function tick(value: number): string {
  return Math.abs(value) >= 1e5 || (value !== 0 && Math.abs(value) < 1e-3)
    ? value.toExponential(2)
    : String(Number(value.toPrecision(4)));
}

/** The path data of a series scaled into the plot area (exported for tests). */
export function seriesPath(
  series: ChartSeries,
  x: (step: number) => number,
  y: (value: number) => number,
): string {
  let d = '';
  let pen = false;
  for (let i = 0; i < series.steps.length; i++) {
    const value = series.values[i] as number;
    const step = series.steps[i] as number;
    if (!Number.isFinite(value) || !Number.isFinite(step)) {
      pen = false;
      continue;
    }
    // `h0` after a move: a zero-length segment with round caps, so a lone point shows as a dot.
    d += `${pen ? 'L' : 'M'}${x(step).toFixed(1)},${y(value).toFixed(1)}${pen ? '' : 'h0'}`;
    pen = true;
  }
  return d;
}

export function lineChart(title: string, series: readonly ChartSeries[]): string {
  const points = series.flatMap((s) =>
    s.steps
      .map((step, i) => [step, s.values[i] as number] as const)
      .filter(([st, v]) => Number.isFinite(st) && Number.isFinite(v)),
  );
  const xs = points.map(([s]) => s);
  const ys = points.map(([, v]) => v);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (points.length === 0) [x0, x1, y0, y1] = [0, 1, 0, 1];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (step: number): number => PAD.left + ((step - x0) / (x1 - x0)) * plotW;
  const y = (value: number): number => PAD.top + (1 - (value - y0) / (y1 - y0)) * plotH;
  const paths = series
    .map(
      (s) =>
        `<path class="series" data-series="${escapeXml(s.label)}" d="${seriesPath(s, x, y)}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"${s.dashed === true ? ' stroke-dasharray="5 3"' : ''}/>`,
    )
    .join('');
  const legend = series
    .map(
      (s, i) =>
        `<text x="${PAD.left + 8 + i * 90}" y="${PAD.top + 12}" fill="${s.color}" font-size="11">${escapeXml(s.label)}</text>`,
    )
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeXml(title)}">` +
    `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ccc"/>` +
    `<text x="${PAD.left - 4}" y="${PAD.top + 10}" text-anchor="end" font-size="10">${tick(y1)}</text>` +
    `<text x="${PAD.left - 4}" y="${PAD.top + plotH}" text-anchor="end" font-size="10">${tick(y0)}</text>` +
    `<text x="${PAD.left}" y="${HEIGHT - 8}" font-size="10">${tick(x0)}</text>` +
    `<text x="${WIDTH - PAD.right}" y="${HEIGHT - 8}" text-anchor="end" font-size="10">step ${tick(x1)}</text>` +
    paths +
    legend +
    `</svg>`
  );
}
