/**
 * Host metrics where /proc does not exist (macOS, Windows), through systeminformation, imported
 * lazily so Linux never loads it. Costlier than /proc (it starts child processes on some
 * platforms), so it only ever runs as the fallback. Keys it cannot give (per-disk I/O, process
 * tree, iowait) stay absent.
 */
import os from 'node:os';
import { filesystemUsage } from './filesystem-usage.js';
import type { FlatValues, HostExtras, HostSource, InterfaceIo } from './sample.js';

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

  async sample(values: FlatValues): Promise<HostExtras> {
    this.si ??= (await import('systeminformation')).default as Si;
    const si = this.si;
    const [load, mem, nets] = await Promise.all([si.currentLoad(), si.mem(), si.networkStats('*')]);
    values.cpu_percent = load.currentLoad;
    values.cpu_user_percent = load.currentLoadUser;
    values.cpu_system_percent = load.currentLoadSystem;
    // Windows has no load average: os.loadavg() answers zeros there, which would read as an idle host.
    if (process.platform !== 'win32') {
      const [load1, load5, load15] = os.loadavg();
      Object.assign(values, { load1, load5, load15 });
    }
    const used = mem.total - mem.available;
    values.ram_used_bytes = used;
    values.ram_available_bytes = mem.available;
    values.ram_total_bytes = mem.total;
    values.ram_percent = mem.total > 0 ? (used / mem.total) * 100 : 0;
    values.swap_used_bytes = mem.swapused;
    values.swap_total_bytes = mem.swaptotal;
    const fsUsage = filesystemUsage(this.outputDir);
    if (fsUsage) {
      values.disk_used_bytes = fsUsage.usedBytes;
      values.disk_total_bytes = fsUsage.totalBytes;
      values.disk_percent = fsUsage.percent;
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
    values.net_sent_bytes = sent;
    values.net_recv_bytes = recv;
    this.ownProcess(values, mem.total);
    return { interfaces, disks: [], processTree: [this.pid] };
  }

  /** Only this process can be measured without /proc (no tree, threads or descriptors). */
  private ownProcess(values: FlatValues, memTotal: number): void {
    if (this.pid !== process.pid) return;
    const now = { usage: process.cpuUsage(), at: process.hrtime.bigint() };
    const previous = this.previousCpu;
    this.previousCpu = now;
    if (previous) {
      const cpuMicros = now.usage.user - previous.usage.user + (now.usage.system - previous.usage.system);
      const elapsedMicros = Number(now.at - previous.at) / 1e3;
      if (elapsedMicros > 0) {
        values.proc_cpu_percent = (cpuMicros / elapsedMicros / os.availableParallelism()) * 100;
      }
    }
    const rss = process.memoryUsage.rss();
    values.proc_rss_bytes = rss;
    if (memTotal > 0) values.proc_mem_percent = (rss / memTotal) * 100;
  }
}
