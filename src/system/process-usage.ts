/**
 * CPU, memory, threads and open file descriptors of a process tree, summed over its live members.
 * CPU is counted per pid between two reads, so members that exit or join do not distort the rate.
 */
import fs from 'node:fs';
import { errnoCode } from '../errors.js';
import { parsePidStat } from './proc/parse-pid.js';
import { readProcText } from './proc/read-proc-text.js';
import { ProcessTree, isGone } from './process-tree.js';
import type { FlatValues } from './sample.js';

/**
 * USER_HZ: the unit of the tick fields in /proc. The kernel fixes it at 100 on every architecture
 * Linux exposes to user space (sysconf(_SC_CLK_TCK)); Node has no sysconf to ask.
 */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessUsageContext {
  /** Seconds since boot at the previous read (undefined on the first): older processes were already there. */
  previousUptime: number | undefined;
  /** Monotonic seconds since the previous read (undefined on the first). */
  elapsedSeconds: number | undefined;
  cpuCount: number;
  memTotalBytes: number | undefined;
  pageSize: number;
}

export class ProcessUsage {
  private readonly procRoot: string;
  private readonly tree: ProcessTree;
  private root: number;
  private previousTicks = new Map<number, number>();
  private nextTicks = new Map<number, number>();
  /** Pids of the tree's live members at the last sample. */
  members: readonly number[] = [];

  constructor(root: number, procRoot = '/proc') {
    this.root = root;
    this.procRoot = procRoot;
    this.tree = new ProcessTree(procRoot);
  }

  setRoot(pid: number): void {
    if (pid === this.root) return;
    this.root = pid;
    this.previousTicks.clear();
  }

  /** Writes the proc_* keys; none when the root has exited. */
  sample(values: FlatValues, context: ProcessUsageContext): void {
    let ticks = 0;
    let rssPages = 0;
    let threads = 0;
    let fds = 0;
    let fdsKnown = true;
    let members = 0;
    const startedAfter =
      context.previousUptime === undefined ? undefined : context.previousUptime * CLOCK_TICKS_PER_SECOND;
    this.nextTicks.clear();
    const live: number[] = [];
    for (const pid of this.tree.list(this.root)) {
      const file = `${this.procRoot}/${pid}/stat`;
      let stat;
      try {
        stat = parsePidStat(readProcText(file), file);
      } catch (error) {
        if (isGone(error)) continue;
        throw error;
      }
      members++;
      live.push(pid);
      rssPages += stat.rssPages;
      threads += stat.threads;
      this.nextTicks.set(pid, stat.ticks);
      const before = this.previousTicks.get(pid);
      if (before !== undefined) ticks += Math.max(0, stat.ticks - before);
      // A process born since the last read spent all its ticks in this interval; one that merely
      // joined the tree (a new root) did not, and is only a baseline until the next read.
      else if (startedAfter !== undefined && stat.startTicks >= startedAfter) ticks += stat.ticks;
      const count = this.countFds(pid);
      if (count === undefined) fdsKnown = pid === this.root ? false : fdsKnown;
      else fds += count;
    }
    const hadBaseline = this.previousTicks.size > 0;
    [this.previousTicks, this.nextTicks] = [this.nextTicks, this.previousTicks];
    this.members = live;
    if (members === 0) return;
    const elapsed = context.elapsedSeconds ?? 0;
    if (hadBaseline && elapsed > 0) {
      // Normalized by CPU count, as W&B's `cpu` and OTel's process.cpu.utilization are.
      values.proc_cpu_percent = (ticks / CLOCK_TICKS_PER_SECOND / elapsed / context.cpuCount) * 100;
    }
    const rssBytes = rssPages * context.pageSize;
    values.proc_rss_bytes = rssBytes;
    if (context.memTotalBytes !== undefined && context.memTotalBytes > 0) {
      values.proc_mem_percent = (rssBytes / context.memTotalBytes) * 100;
    }
    values.proc_threads = threads;
    if (fdsKnown) values.proc_open_fds = fds;
  }

  /** Entries of /proc/<pid>/fd; undefined when another user's process hides them. */
  private countFds(pid: number): number | undefined {
    try {
      return fs.readdirSync(`${this.procRoot}/${pid}/fd`).length;
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EACCES' || code === 'EPERM' || isGone(error)) return undefined;
      throw error;
    }
  }
}
