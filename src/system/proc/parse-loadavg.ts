import { counter } from './proc-parse-error.js';

export interface LoadAverage {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
}

/** /proc/loadavg: `0.52 0.58 0.59 1/467 12345`; only the three averages are kept. */
export function parseLoadavg(text: string, file = '/proc/loadavg'): LoadAverage {
  const fields = text.trim().split(/\s+/);
  return {
    load1: counter(fields[0], file, 1, 'load1'),
    load5: counter(fields[1], file, 1, 'load5'),
    load15: counter(fields[2], file, 1, 'load15'),
  };
}
