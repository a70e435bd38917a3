/**
 * Our system snapshot's flat keys → the key names wandb-core's system monitor uses in
 * StatsRecords (uploaded as `system.<key>`), with the unit change W&B expects. GPU names come
 * from the GPU key table's `wandb` column; keys without a W&B counterpart pass through
 * unchanged (docs/system-keys.md lists them), so nothing the sampler measures is dropped.
 */
import { describeSystemKey } from '../../system/keys/flatten.js';

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

/** The W&B key for one of our system keys (keys W&B has no name for map to themselves). */
export function wandbStatsKey(name: string): StatsKey {
  const fixed = FIXED[name];
  if (fixed !== undefined) return fixed;
  const meaning = describeSystemKey(name);
  if (meaning.kind === 'gpu' && meaning.entry.wandb !== undefined) {
    return { key: `gpu.${meaning.index}.${meaning.entry.wandb}`, scale: 1 };
  }
  if (meaning.kind === 'disk') {
    return { key: `disk.${meaning.device}.${meaning.direction === 'read' ? 'in' : 'out'}`, scale: MIB };
  }
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
