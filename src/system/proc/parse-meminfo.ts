import { ProcParseError, counter } from './proc-parse-error.js';

export interface MemInfo {
  readonly totalBytes: number;
  /** MemAvailable: what can be allocated without swapping (kernel's estimate, 3.14+). */
  readonly availableBytes: number;
  readonly swapTotalBytes: number;
  readonly swapFreeBytes: number;
}

const WANTED = new Set(['MemTotal', 'MemAvailable', 'MemFree', 'SwapTotal', 'SwapFree']);

/** /proc/meminfo: `Key:   123 kB` lines; values are KiB despite the "kB" label. */
export function parseMeminfo(text: string, file = '/proc/meminfo'): MemInfo {
  const found = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    if (!WANTED.has(key)) continue;
    const number = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)[0];
    found.set(key, counter(number, file, i + 1, key) * 1024);
  }
  const total = found.get('MemTotal');
  if (total === undefined) throw new ProcParseError(file, 1, 'MemTotal', 'is missing');
  // Kernels before 3.14 have no MemAvailable; MemFree under-reports what is usable, but is the best left.
  const available = found.get('MemAvailable') ?? found.get('MemFree');
  if (available === undefined) throw new ProcParseError(file, 1, 'MemAvailable', 'is missing');
  return {
    totalBytes: total,
    availableBytes: available,
    swapTotalBytes: found.get('SwapTotal') ?? 0,
    swapFreeBytes: found.get('SwapFree') ?? 0,
  };
}
