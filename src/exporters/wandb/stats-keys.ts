/**
 * Our system snapshot's flat keys → the key names wandb-core's system monitor uses in
 * StatsRecords (uploaded as `system.<key>`), with the unit change W&B expects. Keys without a
 * W&B counterpart pass through unchanged, so nothing the sampler measures is dropped.
 */

export interface StatsKey {
  key: string;
  /** Multiply our value by this (bytes → MiB/GiB); 1 for most. */
  scale: number;
}

const MIB = 1 / 2 ** 20;
const GIB = 1 / 2 ** 30;

const FIXED: Readonly<Record<string, StatsKey>> = {
  proc_cpu_percent: { key: 'cpu', scale: 1 },
  proc_threads: { key: 'proc.cpu.threads', scale: 1 },
  ram_percent: { key: 'memory_percent', scale: 1 },
  ram_available_bytes: { key: 'proc.memory.availableMB', scale: MIB },
  proc_rss_bytes: { key: 'proc.memory.rssMB', scale: MIB },
  proc_mem_percent: { key: 'proc.memory.percent', scale: 1 },
  net_sent_bytes: { key: 'network.sent', scale: 1 },
  net_recv_bytes: { key: 'network.recv', scale: 1 },
  disk_percent: { key: 'disk./.usagePercent', scale: 1 },
  disk_used_bytes: { key: 'disk./.usageGB', scale: GIB },
};

/** Per-GPU fields: `gpu_<i>_<ours>` → `gpu.<i>.<theirs>`. */
const GPU_FIELDS: Readonly<Record<string, StatsKey>> = {
  util_percent: { key: 'gpu', scale: 1 },
  mem_util_percent: { key: 'memory', scale: 1 },
  mem_percent: { key: 'memoryAllocated', scale: 1 },
  mem_used_bytes: { key: 'memoryAllocatedBytes', scale: 1 },
  temp_c: { key: 'temp', scale: 1 },
  power_w: { key: 'powerWatts', scale: 1 },
  power_limit_w: { key: 'enforcedPowerLimitWatts', scale: 1 },
  power_percent: { key: 'powerPercent', scale: 1 },
  sm_clock_mhz: { key: 'smClock', scale: 1 },
  mem_clock_mhz: { key: 'memoryClock', scale: 1 },
  graphics_clock_mhz: { key: 'graphicsClock', scale: 1 },
  fan_percent: { key: 'fanSpeed', scale: 1 },
  ecc_corrected: { key: 'correctedMemoryErrors', scale: 1 },
  ecc_uncorrected: { key: 'uncorrectedMemoryErrors', scale: 1 },
};

const GPU_KEY = /^gpu_(\d+)_(.+)$/;
const DISK_IO_KEY = /^disk_(.+)_(read|write)_bytes$/;

/** The W&B key for one of our system keys (unknown keys map to themselves). */
export function wandbStatsKey(name: string): StatsKey {
  const fixed = FIXED[name];
  if (fixed !== undefined) return fixed;
  const gpu = GPU_KEY.exec(name);
  if (gpu !== null) {
    const field = GPU_FIELDS[gpu[2] as string];
    if (field !== undefined) return { key: `gpu.${gpu[1]}.${field.key}`, scale: field.scale };
  }
  const disk = DISK_IO_KEY.exec(name);
  if (disk !== null) return { key: `disk.${disk[1]}.${disk[2] === 'read' ? 'in' : 'out'}`, scale: MIB };
  return { key: name, scale: 1 };
}

/** Caches the mapping: a sampler sends the same few dozen keys every second. */
export class StatsKeyMapper {
  private readonly cache = new Map<string, StatsKey>();

  map(name: string): StatsKey {
    let mapped = this.cache.get(name);
    if (mapped === undefined) {
      mapped = wandbStatsKey(name);
      this.cache.set(name, mapped);
    }
    return mapped;
  }
}
