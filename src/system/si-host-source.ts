/**
 * Host metrics where /proc does not exist (macOS, Windows), through systeminformation, imported
 * lazily so Linux never loads it. Costlier than /proc (it starts child processes on some
 * platforms), so it only ever runs as the fallback. Keys it cannot give (per-disk I/O, process
 * tree, iowait) stay absent.
 */
import os from 'node:os';
import { filesystemUsage } from './filesystem-usage.js';
import type { HostSample, HostSource, InterfaceIo, ProcessSample } from './sample.js';

type Si = typeof import('systeminformation');

export interface SiHostSourceOptions {
  outputDir: string;
  pid: number;
}

const LOOPBACK = /^(lo|lo0|Loopback.*)$/i;

export class SiHostSource implements HostSource {
  readonly name = 'systeminformation';
  private readonly outputDir: string;
  private pid: number;
  private si: Si | undefined;
  private readonly netBaseline = new Map<string, { sent: number; recv: number }>();
  private previousCpu: { usage: NodeJS.CpuUsage; at: bigint } | undefined;

  constructor(options: SiHostSourceOptions) {
    this.outputDir = options.outputDir;
    this.pid = options.pid;
  }

  setPid(pid: number): void {
    this.pid = pid;
  }

  async sample(): Promise<HostSample> {
    this.si ??= (await import('systeminformation')).default as Si;
    const si = this.si;
    const [load, mem, nets] = await Promise.all([si.currentLoad(), si.mem(), si.networkStats('*')]);
    const host: HostSample = {
      cpu: {
        busyPercent: load.currentLoad,
        userPercent: load.currentLoadUser,
        systemPercent: load.currentLoadSystem,
      },
      interfaces: [],
      disks: [],
      processTree: [this.pid],
    };
    // Windows has no load average: os.loadavg() answers zeros there, which would read as an idle host.
    if (process.platform !== 'win32') {
      const [load1, load5, load15] = os.loadavg();
      host.load = { load1, load5, load15 };
    }
    const used = mem.total - mem.available;
    host.memory = {
      usedBytes: used,
      availableBytes: mem.available,
      totalBytes: mem.total,
      percent: mem.total > 0 ? (used / mem.total) * 100 : 0,
    };
    host.swap = { usedBytes: mem.swapused, totalBytes: mem.swaptotal };
    const fsUsage = filesystemUsage(this.outputDir);
    if (fsUsage) {
      host.filesystem = {
        usedBytes: fsUsage.usedBytes,
        totalBytes: fsUsage.totalBytes,
        percent: fsUsage.percent,
      };
    }
    const interfaces: InterfaceIo[] = [];
    let sent = 0;
    let recv = 0;
    for (const net of nets) {
      if (LOOPBACK.test(net.iface)) continue;
      let base = this.netBaseline.get(net.iface);
      if (!base || net.tx_bytes < base.sent || net.rx_bytes < base.recv) {
        base = { sent: net.tx_bytes, recv: net.rx_bytes };
        this.netBaseline.set(net.iface, base);
      }
      const io = {
        name: net.iface,
        sentBytes: net.tx_bytes - base.sent,
        recvBytes: net.rx_bytes - base.recv,
      };
      interfaces.push(io);
      sent += io.sentBytes;
      recv += io.recvBytes;
    }
    host.interfaces = interfaces;
    host.network = { sentBytes: sent, recvBytes: recv };
    host.process = this.ownProcess(mem.total);
    return host;
  }

  /** Only this process can be measured without /proc (no tree, threads or descriptors). */
  private ownProcess(memTotal: number): ProcessSample | undefined {
    if (this.pid !== process.pid) return undefined;
    const now = { usage: process.cpuUsage(), at: process.hrtime.bigint() };
    const previous = this.previousCpu;
    this.previousCpu = now;
    let cpuPercent: number | undefined;
    if (previous) {
      const cpuMicros = now.usage.user - previous.usage.user + (now.usage.system - previous.usage.system);
      const elapsedMicros = Number(now.at - previous.at) / 1e3;
      if (elapsedMicros > 0) cpuPercent = (cpuMicros / elapsedMicros / os.availableParallelism()) * 100;
    }
    const rss = process.memoryUsage.rss();
    return { cpuPercent, rssBytes: rss, memPercent: memTotal > 0 ? (rss / memTotal) * 100 : undefined };
  }
}
