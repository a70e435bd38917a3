/**
 * Host metrics on Linux straight from /proc and statfs(2): no child processes, a handful of small
 * reads per sample. Two consecutive reads give rates; counters are reported as totals since the
 * first read ("since start").
 */
import { filesystemUsage } from './filesystem-usage.js';
import { parseDiskstats, type DiskCounters } from './proc/parse-diskstats.js';
import { parseLoadavg } from './proc/parse-loadavg.js';
import { parseMeminfo } from './proc/parse-meminfo.js';
import { parseNetDev, type NetCounters } from './proc/parse-net-dev.js';
import { cpuUtilization, parseStat, type CpuTimes } from './proc/parse-stat.js';
import { parseKernelPageSize, parseUptime } from './proc/parse-uptime.js';
import { readProcHead, readProcText } from './proc/read-proc-text.js';
import { ProcessUsage } from './process-usage.js';
import type { FlatValues, HostExtras, HostSource, InterfaceIo, ProblemReporter } from './sample.js';
import { errnoCode } from '../errors.js';
import { ProcParseError } from './proc/proc-parse-error.js';

const DEFAULT_PAGE_SIZE = 4096;

export interface ProcHostSourceOptions {
  outputDir: string;
  pid: number;
  report: ProblemReporter;
  /** Where procfs is mounted; tests point it at captured files. */
  procRoot?: string;
}

/** Errors that mean "this part cannot be read here", as opposed to a bug. */
function isUnreadable(error: unknown): boolean {
  if (error instanceof ProcParseError) return true;
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'EIO';
}

/** Keeps the first reading of each counter so later readings become "since start". */
class SinceStart<T extends object> {
  private readonly baseline = new Map<string, T>();

  delta(name: string, now: T, keys: readonly (keyof T)[]): T {
    let base = this.baseline.get(name);
    // A device seen for the first time, or one whose counters went back (re-attached): start over.
    if (!base || keys.some((key) => (now[key] as number) < (base![key] as number))) {
      base = now;
      this.baseline.set(name, now);
    }
    const result = { ...now };
    for (const key of keys) (result[key] as number) = (now[key] as number) - (base[key] as number);
    return result;
  }
}

export class ProcHostSource implements HostSource {
  readonly name = 'proc';
  private readonly procRoot: string;
  private readonly outputDir: string;
  private readonly report: ProblemReporter;
  private readonly process: ProcessUsage;
  private readonly disks = new SinceStart<DiskCounters>();
  private readonly nets = new SinceStart<NetCounters>();
  private readonly pageSize: number;
  private previousCpu: CpuTimes | undefined;
  private previousUptime: number | undefined;
  private previousTime: bigint | undefined;

  constructor(options: ProcHostSourceOptions) {
    this.procRoot = options.procRoot ?? '/proc';
    this.outputDir = options.outputDir;
    this.report = options.report;
    this.process = new ProcessUsage(options.pid, this.procRoot);
    this.pageSize = this.readPageSize();
  }

  setPid(pid: number): void {
    this.process.setRoot(pid);
  }

  sample(values: FlatValues): HostExtras {
    const now = process.hrtime.bigint();
    const elapsedSeconds =
      this.previousTime === undefined ? undefined : Number(now - this.previousTime) / 1e9;
    this.previousTime = now;
    const extras: HostExtras = { interfaces: [], disks: [], processTree: [] };
    const cpu = this.part('cpu', () => this.cpu(values, extras));
    this.part('load', () => {
      const load = parseLoadavg(this.read('loadavg'), `${this.procRoot}/loadavg`);
      values.load1 = load.load1;
      values.load5 = load.load5;
      values.load15 = load.load15;
    });
    const memTotal = this.part('memory', () => this.memory(values));
    this.part('filesystem', () => {
      const usage = filesystemUsage(this.outputDir);
      if (!usage) return;
      values.disk_used_bytes = usage.usedBytes;
      values.disk_total_bytes = usage.totalBytes;
      values.disk_percent = usage.percent;
    });
    this.part('diskstats', () => {
      for (const [name, counters] of parseDiskstats(this.read('diskstats'), `${this.procRoot}/diskstats`)) {
        const since = this.disks.delta(name, counters, ['readBytes', 'writeBytes']);
        extras.disks.push({ name, readBytes: since.readBytes, writeBytes: since.writeBytes });
      }
    });
    this.part('network', () => this.network(values, extras.interfaces));
    this.part('process', () => {
      const uptime = parseUptime(this.read('uptime'), `${this.procRoot}/uptime`);
      this.process.sample(values, {
        previousUptime: this.previousUptime,
        elapsedSeconds,
        cpuCount: cpu ?? 1,
        memTotalBytes: memTotal,
        pageSize: this.pageSize,
      });
      this.previousUptime = uptime;
      extras.processTree = this.process.members;
    });
    return extras;
  }

  /** Runs one part; an unreadable part leaves its keys out and is reported once by the sampler. */
  private part<T>(name: string, body: () => T): T | undefined {
    try {
      return body();
    } catch (error) {
      if (!isUnreadable(error)) throw error;
      this.report(`proc.${name}`, error);
      return undefined;
    }
  }

  private read(file: string): string {
    return readProcText(`${this.procRoot}/${file}`);
  }

  /** Returns the CPU count, which process CPU is normalized by. */
  private cpu(values: FlatValues, extras: HostExtras): number {
    const times = parseStat(this.read('stat'), `${this.procRoot}/stat`);
    const previous = this.previousCpu;
    this.previousCpu = times;
    const modes = previous && cpuUtilization(previous, times);
    if (modes) {
      values.cpu_percent = (1 - modes.idle - modes.iowait) * 100;
      values.cpu_user_percent = modes.user * 100;
      values.cpu_system_percent = modes.system * 100;
      values.cpu_iowait_percent = modes.iowait * 100;
      extras.cpuModes = modes;
    }
    return times.cpuCount;
  }

  /** Returns MemTotal, which process memory percent is relative to. */
  private memory(values: FlatValues): number {
    const mem = parseMeminfo(this.read('meminfo'), `${this.procRoot}/meminfo`);
    const used = mem.totalBytes - mem.availableBytes;
    values.ram_used_bytes = used;
    values.ram_available_bytes = mem.availableBytes;
    values.ram_total_bytes = mem.totalBytes;
    values.ram_percent = mem.totalBytes > 0 ? (used / mem.totalBytes) * 100 : 0;
    values.swap_used_bytes = mem.swapTotalBytes - mem.swapFreeBytes;
    values.swap_total_bytes = mem.swapTotalBytes;
    return mem.totalBytes;
  }

  private network(values: FlatValues, interfaces: InterfaceIo[]): void {
    let sent = 0;
    let recv = 0;
    for (const [name, counters] of parseNetDev(this.read('net/dev'), `${this.procRoot}/net/dev`)) {
      const since = this.nets.delta(name, counters, ['sentBytes', 'recvBytes']);
      sent += since.sentBytes;
      recv += since.recvBytes;
      interfaces.push({ name, sentBytes: since.sentBytes, recvBytes: since.recvBytes });
    }
    values.net_sent_bytes = sent;
    values.net_recv_bytes = recv;
  }

  private readPageSize(): number {
    try {
      return parseKernelPageSize(readProcHead(`${this.procRoot}/self/smaps`, 4096)) ?? DEFAULT_PAGE_SIZE;
    } catch (error) {
      if (isUnreadable(error)) return DEFAULT_PAGE_SIZE;
      throw error;
    }
  }
}
