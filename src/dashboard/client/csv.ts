/**
 * A chart's data as CSV (RFC 4180: CRLF, fields quoted when they hold a comma, quote or line
 * break). Text fields that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) get a
 * leading apostrophe. Non-finite values are rows too, with their spelling as the value.
 */
import type { ChartModel } from '../chart-model.js';

const NF_SPELLING: [number, string][] = [
  [1, 'NaN'],
  [2, 'Infinity'],
  [4, '-Infinity'],
];

function text(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function num(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

export function chartCsv(chart: ChartModel): string {
  const rows = ['metric,series,run,phase,rank,step,time,value,band_min,band_max'];
  for (const s of chart.series) {
    const head = [
      text(chart.metric),
      text(s.label),
      text(s.run),
      s.phase,
      s.rank === null ? '' : String(s.rank),
    ];
    for (let i = 0; i < s.step.length; i++) {
      rows.push(
        [...head, num(s.step[i]), num(s.ts[i]), num(s.y[i]), num(s.lo?.[i]), num(s.hi?.[i])].join(','),
      );
    }
    for (const [step, time, bits] of s.marks) {
      for (const [bit, spelling] of NF_SPELLING) {
        if ((bits & bit) !== 0) rows.push([...head, num(step), num(time), spelling, '', ''].join(','));
      }
    }
  }
  return `${rows.join('\r\n')}\r\n`;
}
