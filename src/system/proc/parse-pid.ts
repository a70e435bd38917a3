/** /proc/<pid>/stat and /proc/<pid>/status: CPU ticks, parent, threads and resident memory of one process. */
import { ProcParseError, counter } from './proc-parse-error.js';

export interface PidStat {
  readonly pid: number;
  readonly ppid: number;
  /**
   * utime + stime in clock ticks. Not cutime/cstime: a reaped child's whole lifetime lands there at
   * once, which would count again ticks the tree already counted while the child was alive.
   */
  readonly ticks: number;
  /** Start time in clock ticks after boot (field 22): tells a new process from one that joined the tree. */
  readonly startTicks: number;
  readonly threads: number;
  /** Resident pages (multiply by the page size). */
  readonly rssPages: number;
}

/**
 * `pid (comm) state ppid ...`. comm may hold spaces and parentheses, so fields are counted from the
 * last ')'. Field numbers are proc(5)'s, 1-based.
 */
export function parsePidStat(text: string, file = '/proc/<pid>/stat'): PidStat {
  const close = text.lastIndexOf(')');
  const open = text.indexOf('(');
  if (open < 0 || close < open) throw new ProcParseError(file, 1, 'comm', 'has no parentheses');
  const pid = counter(text.slice(0, open).trim(), file, 1, 'pid');
  // rest[0] is field 3 (state): field n is rest[n - 3].
  const rest = text
    .slice(close + 1)
    .trim()
    .split(' ');
  const field = (n: number, name: string): number => counter(rest[n - 3], file, 1, name);
  return {
    pid,
    ppid: field(4, 'ppid'),
    ticks: field(14, 'utime') + field(15, 'stime'),
    threads: field(20, 'num_threads'),
    startTicks: field(22, 'starttime'),
    rssPages: field(24, 'rss'),
  };
}

export interface PidStatus {
  /** VmRSS in bytes; absent for kernel threads and zombies. */
  readonly rssBytes?: number;
  readonly threads?: number;
}

/** /proc/<pid>/status `Key:\tvalue` lines: VmRSS (kB) and Threads. */
export function parsePidStatus(text: string, file = '/proc/<pid>/status'): PidStatus {
  let rssBytes: number | undefined;
  let threads: number | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('VmRSS:')) {
      rssBytes = counter(line.slice(6).trim().split(/\s+/)[0], file, i + 1, 'VmRSS') * 1024;
    } else if (line.startsWith('Threads:')) {
      threads = counter(line.slice(8).trim(), file, i + 1, 'Threads');
    }
  }
  return { rssBytes, threads };
}

/** `/proc/<pid>/task/<tid>/children`: space-separated pids of the children that thread forked. */
export function parseChildren(text: string, file = '/proc/<pid>/task/<tid>/children'): number[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return trimmed.split(/\s+/).map((pid, i) => counter(pid, file, 1, `children[${i}]`));
}
