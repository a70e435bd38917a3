/**
 * `html`: one self-contained page (no scripts, no network) with the run header, the metric table,
 * and one inline SVG chart per metric, train and eval overlaid. The scorecard also rides along as
 * JSON in a `<script type="application/json" id="codex-scorecard">` block for tools.
 */
import type { MetricRow, Scorecard } from '../scorecard.js';
import { renderJson } from './machine.js';
import { formatBytes, formatStep, formatTime, formatValue } from './values.js';

const COLORS: Record<string, string> = { train: '#1f77b4', eval: '#d62728', system: '#2ca02c' };
const WIDTH = 520;
const HEIGHT = 200;
const PAD = 36;

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function chart(name: string, rows: MetricRow[]): string {
  const series = rows.map((row) => ({
    row,
    points: row.points.steps
      .map((step, i) => [step, row.points.values[i] as number] as const)
      .filter(([, v]) => Number.isFinite(v)),
  }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number): number => PAD + ((x - x0) / (x1 - x0 || 1)) * (WIDTH - 2 * PAD);
  const sy = (y: number): number => HEIGHT - PAD - ((y - y0) / (y1 - y0 || 1)) * (HEIGHT - 2 * PAD);
  const lines = series
    .map(
      ({ row, points }) =>
        `<polyline class="series" data-phase="${row.phase}" fill="none" stroke="${COLORS[row.phase]}" stroke-width="1.5" points="${points
          .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
          .join(' ')}"/>`,
    )
    .join('');
  const legend = series
    .map(
      ({ row }, i) =>
        `<text x="${WIDTH - PAD - 60}" y="${14 + i * 14}" fill="${COLORS[row.phase]}" font-size="11">${row.phase}</text>`,
    )
    .join('');
  return `<figure><figcaption>${escape(name)}</figcaption><svg class="chart" data-metric="${escape(name)}" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img">
<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#fff" stroke="#ddd"/>
<line x1="${PAD}" y1="${HEIGHT - PAD}" x2="${WIDTH - PAD}" y2="${HEIGHT - PAD}" stroke="#999"/><line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${HEIGHT - PAD}" stroke="#999"/>
<text x="${PAD}" y="${HEIGHT - 12}" font-size="10">${x0}</text><text x="${WIDTH - PAD - 40}" y="${HEIGHT - 12}" font-size="10">${x1}</text>
<text x="2" y="${PAD}" font-size="10">${escape(formatValue(y1))}</text><text x="2" y="${HEIGHT - PAD}" font-size="10">${escape(formatValue(y0))}</text>
${lines}${legend}</svg></figure>`;
}

export function renderHtml(card: Scorecard): string {
  const h = card.header;
  const byName = new Map<string, MetricRow[]>();
  for (const row of card.metrics.filter((r) => r.phase !== 'system')) {
    const list = byName.get(row.name) ?? [];
    list.push(row);
    byName.set(row.name, list);
  }
  const rows = card.metrics
    .filter((row) => row.phase !== 'system')
    .map(
      (row) =>
        `<tr><td>${row.phase}</td><td>${escape(row.name)}</td><td>${row.count}</td><td>${formatValue(row.first)}</td><td>${formatValue(row.last)}</td><td>${formatValue(row.min)}</td><td>${formatValue(row.max)}</td><td>${formatValue(row.mean)}</td><td>${row.best ? `${formatValue(row.best.value)} @ ${formatStep(row.best.step)}` : ''}</td><td>${row.nonFinite}</td></tr>`,
    )
    .join('\n');
  const system = card.system
    .map((stat) => {
      const show = (v: number): string =>
        stat.unit === 'B' ? formatBytes(v) : `${formatValue(v)} ${stat.unit}`;
      return `<tr><td>${escape(stat.label)}</td><td>${show(stat.mean)}</td><td>${show(stat.peak)}</td></tr>`;
    })
    .join('\n');
  const json = renderJson(card).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>codex-telemetry run summary</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}figure{display:inline-block;margin:8px}figcaption{font-weight:600}</style>
</head><body>
<h1>Run summary</h1>
<ul><li>runs: ${escape(h.runIds.join(', '))}</li><li>time: ${formatTime(h.tsMin)} → ${formatTime(h.tsMax)}</li><li>steps: ${formatStep(h.stepMin)} → ${formatStep(h.stepMax)}</li><li>${h.files.length} file(s), ${h.lines} lines, ${h.malformed} malformed</li></ul>
<h2>Metrics</h2>
<table><thead><tr><th>phase</th><th>metric</th><th>count</th><th>first</th><th>last</th><th>min</th><th>max</th><th>mean</th><th>best</th><th>non-finite</th></tr></thead><tbody>
${rows}
</tbody></table>
${system ? `<h2>System</h2><table><thead><tr><th>system</th><th>mean</th><th>peak</th></tr></thead><tbody>${system}</tbody></table>` : ''}
<h2>Charts</h2>
${[...byName].map(([name, list]) => chart(name, list)).join('\n')}
<script type="application/json" id="codex-scorecard">${json}</script>
</body></html>
`;
}
