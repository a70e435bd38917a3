import { counter } from './proc-parse-error.js';

/** /proc/uptime: `seconds_since_boot idle_seconds`; only the first is kept. */
export function parseUptime(text: string, file = '/proc/uptime'): number {
  return counter(text.trim().split(/\s+/)[0], file, 1, 'uptime');
}

/** `KernelPageSize:  4 kB` from the head of /proc/self/smaps; undefined when absent. */
export function parseKernelPageSize(text: string): number | undefined {
  const match = /^KernelPageSize:\s+(\d+) kB$/m.exec(text);
  return match ? Number(match[1]) * 1024 : undefined;
}
