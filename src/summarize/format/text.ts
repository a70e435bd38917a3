/** `table` (terminal, with sparklines) and `markdown` renderings of a scorecard. */
import type { Scorecard } from '../scorecard.js';
import { formatBytes, formatStep, formatTime, formatValue, sparkline } from './values.js';

type Cell = string;

function alignTable(header: Cell[], rows: Cell[][]): string {
  const widths = header.map((cell, i) =>
    Math.max([...cell].length, ...rows.map((row) => [...(row[i] ?? '')].length)),
  );
  const line = (cells: Cell[]): string =>
    cells
      .map((cell, i) => cell + ' '.repeat((widths[i] as number) - [...cell].length))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function markdownTable(header: Cell[], rows: Cell[][]): string {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  return [header, header.map(() => '---'), ...rows]
    .map((row) => `| ${row.map(escape).join(' | ')} |`)
    .join('\n');
}

function headerLines(card: Scorecard): string[] {
  const h = card.header;
  const span =
    h.tsMin === undefined
      ? 'unknown'
      : `${formatTime(h.tsMin)} → ${formatTime(h.tsMax)} (${(((h.tsMax ?? 0) - h.tsMin) / 60).toFixed(1)} min)`;
  return [
    `runs: ${h.runIds.join(', ') || '(none)'}`,
    `time: ${span}`,
    `steps: ${formatStep(h.stepMin)} → ${formatStep(h.stepMax)}`,
    `read: ${h.files.length} file(s), ${h.lines} lines, ${formatBytes(h.bytes)}, ${h.malformed} malformed`,
    ...h.malformedExamples.map((m) => `  malformed ${m.file}:${m.line}: ${m.reason}`),
  ];
}

function metricCells(card: Scorecard, withSparkline: boolean): { header: Cell[]; rows: Cell[][] } {
  const header = [
    'phase',
    'metric',
    'count',
    'first',
    'last',
    'min',
    'max',
    'mean',
    'best',
    'best step',
    'non-finite',
  ];
  if (withSparkline) header.push('trend');
  const rows = card.metrics
    .filter((row) => row.phase !== 'system')
    .map((row) => {
      const cells = [
        row.phase,
        row.name,
        String(row.count),
        formatValue(row.first),
        formatValue(row.last),
        formatValue(row.min),
        formatValue(row.max),
        formatValue(row.mean),
        row.best ? `${formatValue(row.best.value)} (${row.goal})` : '',
        row.best ? formatStep(row.best.step) : '',
        String(row.nonFinite),
      ];
      if (withSparkline) cells.push(sparkline(row.points.values));
      return cells;
    });
  return { header, rows };
}

function systemCells(card: Scorecard): { header: Cell[]; rows: Cell[][] } {
  const show = (value: number, unit: string): string =>
    unit === 'B' ? formatBytes(value) : `${formatValue(value)} ${unit}`;
  return {
    header: ['system', 'mean', 'peak'],
    rows: card.system.map((stat) => [stat.label, show(stat.mean, stat.unit), show(stat.peak, stat.unit)]),
  };
}

export function renderTable(card: Scorecard): string {
  const parts = [headerLines(card).join('\n')];
  const metrics = metricCells(card, true);
  if (metrics.rows.length > 0) parts.push(alignTable(metrics.header, metrics.rows));
  const system = systemCells(card);
  if (system.rows.length > 0) parts.push(alignTable(system.header, system.rows));
  return `${parts.join('\n\n')}\n`;
}

export function renderMarkdown(card: Scorecard): string {
  const parts = [
    '## Run summary',
    headerLines(card)
      .map((line) => `- ${line.trim()}`)
      .join('\n'),
  ];
  const metrics = metricCells(card, false);
  if (metrics.rows.length > 0) parts.push('## Metrics', markdownTable(metrics.header, metrics.rows));
  const system = systemCells(card);
  if (system.rows.length > 0) parts.push('## System', markdownTable(system.header, system.rows));
  return `${parts.join('\n\n')}\n`;
}

export { alignTable, markdownTable };
