/**
 * /proc/stat: the aggregate `cpu` line (jiffies per mode since boot) and the number of `cpuN` lines.
 * Rates come from two reads; see cpuUtilization().
 */
import { ProcParseError, counter } from './proc-parse-error.js';

/** Modes in /proc/stat column order (proc(5)); guest time is already inside user and nice. */
export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
export type CpuMode = (typeof CPU_MODES)[number];

export interface CpuTimes {
  /** Jiffies per mode, summed over all CPUs. */
  readonly modes: Readonly<Record<CpuMode, number>>;
  readonly total: number;
  /** Logical CPUs listed (`cpu0`, `cpu1`, ...). */
  readonly cpuCount: number;
}

export function parseStat(text: string, file = '/proc/stat'): CpuTimes {
  let modes: Record<CpuMode, number> | undefined;
  let total = 0;
  let cpuCount = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.startsWith('cpu')) continue;
    if (line.startsWith('cpu ')) {
      const fields = line.split(/\s+/);
      modes = {} as Record<CpuMode, number>;
      for (let m = 0; m < CPU_MODES.length; m++) {
        // Kernels before 2.6.11 lack steal; before 2.6.0 lack iowait/irq/softirq: count those as 0.
        const raw = fields[m + 1];
        const value = raw === undefined ? 0 : counter(raw, file, i + 1, `cpu.${CPU_MODES[m]}`);
        modes[CPU_MODES[m]] = value;
        total += value;
      }
    } else if (/^cpu\d/.test(line)) {
      cpuCount++;
    }
  }
  if (!modes) throw new ProcParseError(file, 1, 'cpu', 'line is missing');
  return { modes, total, cpuCount: Math.max(cpuCount, 1) };
}

/** Fraction of time (0..1) per mode between two reads; undefined when no time passed. */
export function cpuUtilization(before: CpuTimes, after: CpuTimes): Record<CpuMode, number> | undefined {
  const elapsed = after.total - before.total;
  if (elapsed <= 0) return undefined;
  const result = {} as Record<CpuMode, number>;
  for (const mode of CPU_MODES) {
    result[mode] = Math.max(0, after.modes[mode] - before.modes[mode]) / elapsed;
  }
  return result;
}
