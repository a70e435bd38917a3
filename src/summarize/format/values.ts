/** Number and step formatting shared by the text formats. */
import type { Step } from '../../instruments/step-row.js';

export function formatValue(value: number | undefined): string {
  if (value === undefined) return '';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-3) return value.toExponential(4);
  return Number(value.toPrecision(6)).toString();
}

export function formatStep(step: Step | undefined): string {
  return step === undefined ? '' : step.toString();
}

export function formatBytes(value: number): string {
  if (!Number.isFinite(value)) return formatValue(value);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value;
  let unit = 0;
  while (Math.abs(scaled) >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return `${Number(scaled.toPrecision(4))} ${units[unit]}`;
}

export function formatTime(seconds: number | undefined): string {
  return seconds === undefined ? '' : new Date(seconds * 1000).toISOString();
}

const BARS = '▁▂▃▄▅▆▇█';

/** A small sparkline of at most `width` characters. */
export function sparkline(values: readonly number[], width = 24): string {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return '';
  const step = Math.max(1, Math.ceil(values.length / width));
  const buckets: number[] = [];
  for (let i = 0; i < values.length; i += step) {
    const slice = values.slice(i, i + step).filter((value) => Number.isFinite(value));
    if (slice.length > 0) buckets.push(slice.reduce((a, b) => a + b, 0) / slice.length);
  }
  const min = Math.min(...buckets);
  const max = Math.max(...buckets);
  return buckets
    .map((value) => BARS[max === min ? 3 : Math.round(((value - min) / (max - min)) * 7)])
    .join('');
}
