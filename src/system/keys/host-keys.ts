/**
 * Every host and process-tree key, in one table: flat key, unit, meaning, the OpenTelemetry
 * instrument it is exported as (system-instruments.ts) and W&B's name for it. docs/system-keys.md
 * shows this table (a test holds them equal); W&B's key mapping reads it. Keys with `<dev>` are
 * patterns, one key per whole disk.
 */

export interface WandbName {
  /** W&B's system-metric name; `<dev>` stands for the disk. */
  readonly key: string;
  /** Multiply our value by this (bytes → MiB/GiB). */
  readonly scale: number;
}

export interface HostKey {
  readonly section: 'host' | 'process';
  readonly key: string;
  readonly unit: string;
  readonly meaning: string;
  /** How the document names its instrument (several keys share one instrument with attributes). */
  readonly instrument: string;
  readonly wandb: WandbName | undefined;
}

export const MIB = 1 / 2 ** 20;
export const GIB = 1 / 2 ** 30;

export const HOST_KEYS: readonly HostKey[] = [
  {
    section: 'host',
    key: 'cpu_percent',
    unit: '%',
    meaning: 'host CPU busy (all modes but idle and iowait), all CPUs',
    instrument: '`system.cpu.utilization` {`cpu.mode`} per mode',
    wandb: undefined,
  },
  {
    section: 'host',
    key: 'cpu_user_percent',
    unit: '%',
    meaning: 'user mode',
    instrument: '`system.cpu.utilization` {`cpu.mode`=`user`}',
    wandb: undefined,
  },
  {
    section: 'host',
    key: 'cpu_system_percent',
    unit: '%',
    meaning: 'kernel mode',
    instrument: '`system.cpu.utilization` {`cpu.mode`=`system`}',
    wandb: undefined,
  },
  {
    section: 'host',
    key: 'cpu_iowait_percent',
    unit: '%',
    meaning: 'idle waiting for I/O (Linux only)',
    instrument: '`system.cpu.utilization` {`cpu.mode`=`iowait`}',
    wandb: undefined,
  },
  {
    section: 'host',
    key: 'load1',
    unit: 'runnable tasks',
    meaning: 'load averages (absent on Windows)',
    instrument: '`system.cpu.load_average.1m`',
    wandb: undefined,
  },
  {
    section: 'host',
    key: 'load5',
    unit: 'runnable tasks',
    meaning: 'load averages (absent on Windows)',
    instrument: '`system.cpu.load_average.5m`',
    wandb: undefined,
  },
  {
    section: 'host',
    key: 'load15',
    unit: 'runnable tasks',
    meaning: 'load averages (absent on Windows)',
    instrument: '`system.cpu.load_average.15m`',
    wandb: undefined,
  },
  {
    section: 'host',
    key: 'ram_used_bytes',
    unit: 'By',
    meaning: 'MemTotal − MemAvailable',
    instrument: '`system.memory.usage` {`system.memory.state`=`used`}',
    wandb: undefined,
  },
  {
    section: 'host',
    key: 'ram_available_bytes',
    unit: 'By',
    meaning: 'MemAvailable',
    instrument: '`system.memory.usage` {`system.memory.state`=`free`}',
    wandb: { key: 'proc.memory.availableMB', scale: MIB },
  },
  {
    section: 'host',
    key: 'ram_total_bytes',
    unit: 'By',
    meaning: 'MemTotal',
    instrument: '`system.memory.limit`',
    wandb: undefined,
  },
  {
    section: 'host',
    key: 'ram_percent',
    unit: '%',
    meaning: 'used / total',
    instrument: '`system.memory.utilization` {`system.memory.state`=`used`} (0–1)',
    wandb: { key: 'memory_percent', scale: 1 },
  },
  {
    section: 'host',
    key: 'swap_used_bytes',
    unit: 'By',
    meaning: 'SwapTotal − SwapFree',
    instrument: '`system.paging.usage` {`system.paging.state`=`used`}',
    wandb: undefined,
  },
  {
    section: 'host',
    key: 'swap_total_bytes',
    unit: 'By',
    meaning: 'SwapTotal',
    instrument: '`system.paging.usage` used + free',
    wandb: undefined,
  },
  {
    section: 'host',
    key: 'disk_used_bytes',
    unit: 'By',
    meaning: 'used on the filesystem of the output directory',
    instrument: '`system.filesystem.usage` {`system.filesystem.state`=`used`}',
    wandb: { key: 'disk./.usageGB', scale: GIB },
  },
  {
    section: 'host',
    key: 'disk_total_bytes',
    unit: 'By',
    meaning: 'size of that filesystem',
    instrument: '`system.filesystem.usage` used + free',
    wandb: undefined,
  },
  {
    section: 'host',
    key: 'disk_percent',
    unit: '%',
    meaning: 'used / (used + available to users), as `df`',
    instrument: '`system.filesystem.utilization` (0–1)',
    wandb: { key: 'disk./.usagePercent', scale: 1 },
  },
  {
    section: 'host',
    key: 'disk_<dev>_read_bytes',
    unit: 'By',
    meaning: 'read from whole disk `<dev>` since start (Linux)',
    instrument: '`system.disk.io` {`system.device`, `disk.io.direction`=`read`}',
    wandb: { key: 'disk.<dev>.in', scale: MIB },
  },
  {
    section: 'host',
    key: 'disk_<dev>_write_bytes',
    unit: 'By',
    meaning: 'written to `<dev>` since start (Linux)',
    instrument: '`system.disk.io` {`system.device`, `disk.io.direction`=`write`}',
    wandb: { key: 'disk.<dev>.out', scale: MIB },
  },
  {
    section: 'host',
    key: 'net_sent_bytes',
    unit: 'By',
    meaning: 'sent on all interfaces but loopback, since start',
    instrument:
      '`system.network.io` {`network.interface.name`, `network.io.direction`=`transmit`} per interface',
    wandb: { key: 'network.sent', scale: 1 },
  },
  {
    section: 'host',
    key: 'net_recv_bytes',
    unit: 'By',
    meaning: 'received likewise',
    instrument: '`system.network.io` {…, `network.io.direction`=`receive`}',
    wandb: { key: 'network.recv', scale: 1 },
  },
  {
    section: 'process',
    key: 'proc_cpu_percent',
    unit: '%',
    meaning: 'CPU of the tree, normalized by the CPU count (100 = every CPU busy)',
    instrument: '`process.cpu.utilization` (0–1)',
    wandb: { key: 'cpu', scale: 1 },
  },
  {
    section: 'process',
    key: 'proc_rss_bytes',
    unit: 'By',
    meaning: 'resident memory, summed over the tree',
    instrument: '`process.memory.usage`',
    wandb: { key: 'proc.memory.rssMB', scale: MIB },
  },
  {
    section: 'process',
    key: 'proc_mem_percent',
    unit: '%',
    meaning: 'RSS / MemTotal',
    instrument: '—',
    wandb: { key: 'proc.memory.percent', scale: 1 },
  },
  {
    section: 'process',
    key: 'proc_threads',
    unit: 'threads',
    meaning: 'threads of the tree (Linux)',
    instrument: '`process.threads`',
    wandb: { key: 'proc.cpu.threads', scale: 1 },
  },
  {
    section: 'process',
    key: 'proc_open_fds',
    unit: 'descriptors',
    meaning: 'open file descriptors of the tree (Linux)',
    instrument: '`process.open_file_descriptors`',
    wandb: undefined,
  },
];
