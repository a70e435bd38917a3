/**
 * Numbers in a chart's unit, for its y axis and hover readout. A system chart carries the unit of
 * its key table (`By`, `By/s`, `%`, `W`, `°C`...): bytes read as KiB/MiB/GiB (ticks at round
 * numbers of those), watts and joules take SI prefixes, the rest their unit. Ticks get the digits their
 * spacing needs, so neighbouring labels never read the same (`2.4e+10` five times).
 */
import { formatValue } from './format.js';

export interface AxisUnit {
  /** The y axis title. */
  title: string;
  /** Labels for one axis's ticks, `incr` apart: one prefix for all, as many digits as `incr` needs. */
  ticks(values: readonly number[], incr: number): string[];
  /** One value, for the hover readout. */
  value(v: number): string;
  /**
   * Tick spacings uPlot chooses from, for an axis up to `largest`: round numbers of the prefix its
   * labels use (`22.40 GiB`, `22.45 GiB`); undefined: uPlot's decimal ones.
   */
  incrs?(largest: number): number[];
}

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const SI = ['', 'k', 'M', 'G', 'T'];
/** Steps of 1, 2 and 5 from hundredths to hundreds (of one prefix). */
const ROUND_STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500];

/** Decimals that show `step` exactly (0.25 → 2), at most 6. */
export function decimalsFor(step: number): number {
  for (let d = 0; d < 6; d++) {
    const scaled = Math.abs(step) * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 6;
}

/** Plain tick labels: fixed digits for ordinary sizes, else an exponent with the digits `incr` needs. */
export function plainTicks(values: readonly number[], incr: number): string[] {
  const largest = Math.max(0, ...values.map((v) => Math.abs(v)));
  if (largest !== 0 && (largest >= 1e6 || largest < 1e-3)) {
    const digits = Math.floor(Math.log10(largest)) - Math.floor(Math.log10(Math.abs(incr) || largest));
    return values.map((v) => (v === 0 ? '0' : v.toExponential(Math.min(6, Math.max(1, digits)))));
  }
  const decimals = decimalsFor(incr);
  return values.map((v) => v.toFixed(decimals));
}

/** A unit whose prefixes step by `base` (1024 for bytes, 1000 for SI). */
function prefixed(base: number, prefixes: readonly string[], suffix: string, title: string): AxisUnit {
  const power = (v: number): number =>
    v === 0
      ? 0
      : Math.min(prefixes.length - 1, Math.max(0, Math.floor(Math.log(Math.abs(v)) / Math.log(base))));
  const name = (k: number): string => `${prefixes[k] as string}${suffix}`;
  return {
    title,
    ticks(values, incr) {
      const k = power(Math.max(0, ...values.map((v) => Math.abs(v))));
      const scale = base ** k;
      const decimals = decimalsFor(incr / scale);
      return values.map((v) => `${(v / scale).toFixed(decimals)} ${name(k)}`);
    },
    value(v) {
      const k = power(v);
      return `${formatValue(Number((v / base ** k).toPrecision(4)))} ${name(k)}`;
    },
    // Binary prefixes are not powers of ten: uPlot's own spacings would land between round labels.
    ...(base === 1024
      ? { incrs: (largest: number) => ROUND_STEPS.map((m) => m * base ** power(largest)) }
      : {}),
  };
}

/** A unit written after the number as it is (`%`, `°C`, `MHz`). */
function suffixed(unit: string, title: string): AxisUnit {
  return {
    title,
    ticks: (values, incr) => plainTicks(values, incr).map((t) => `${t} ${unit}`),
    value: (v) => `${formatValue(v)} ${unit}`,
  };
}

/** The unit of a chart: `unit` from the key tables, or none (the axis titled `title`). */
export function axisUnit(unit: string | undefined, title: string): AxisUnit {
  switch (unit) {
    case 'By':
      return prefixed(1024, BINARY, '', 'bytes');
    case 'By/s':
      return prefixed(1024, BINARY, '/s', 'bytes/s');
    case 'W':
      return prefixed(1000, SI, 'W', 'watts');
    case 'J':
      return prefixed(1000, SI, 'J', 'joules');
    case '%':
    case '°C':
    case 'MHz':
      return suffixed(unit, unit === '%' ? 'percent' : unit);
    case undefined:
    case '1':
      return { title, ticks: plainTicks, value: formatValue };
    default:
      // Counts (`runnable tasks`, `threads`, `errors`): the axis title names them.
      return { title: unit, ticks: plainTicks, value: (v) => `${formatValue(v)} ${unit}` };
  }
}
