/** Numbers and steps as people read them in a scorecard: six significant digits, exact steps. */
import type { Step } from '../step.js';

export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e9))
    return value
      .toExponential(4)
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  return String(Number(value.toPrecision(6)));
}

/** Steps print in full (bigint digits included); an absent step prints as "-". */
export function formatStep(step: Step): string {
  return step === step ? String(step) : '-';
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return formatNumber(bytes);
  let unit = 0;
  let scaled = Math.abs(bytes);
  while (scaled >= 1024 && unit < BYTE_UNITS.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return `${bytes < 0 ? '-' : ''}${unit === 0 ? scaled : scaled.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(rest).padStart(2, '0')}s`
      : `${rest}s`;
}

export function formatTime(unixSeconds: number): string {
  return Number.isFinite(unixSeconds)
    ? new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z')
    : '-';
}

/**
 * A metric's value in the unit its name declares (the flat keys' `_bytes` and `_percent` suffixes,
 * docs/system-keys.md), for the table, markdown and HTML formats; json and csv keep exact numbers.
 */
export function formatMetricValue(name: string, value: number): string {
  if (!Number.isFinite(value)) return formatNumber(value);
  if (name.endsWith('_bytes')) return formatBytes(value);
  if (name.endsWith('_percent')) return `${formatNumber(Number(value.toFixed(1)))}%`;
  return formatNumber(value);
}
