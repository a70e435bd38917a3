/**
 * Our system snapshot's flat keys → the key names wandb-core's system monitor uses in
 * StatsRecords (uploaded as `system.<key>`), with the unit change W&B expects. GPU names come
 * from the GPU key table's `wandb` column; keys without a W&B counterpart pass through
 * unchanged (docs/system-keys.md lists them), so nothing the sampler measures is dropped.
 */
import { describeSystemKey } from '../../system/keys/flatten.js';
import { HOST_KEYS } from '../../system/keys/host-keys.js';

export interface StatsKey {
  key: string;
  /** Multiply our value by this (bytes → MiB/GiB); 1 for most. */
  scale: number;
}

/** Host keys W&B has a name for (the table's `<dev>` patterns are handled per disk below). */
const FIXED: ReadonlyMap<string, StatsKey> = new Map(
  HOST_KEYS.filter((entry) => entry.wandb !== undefined && !entry.key.includes('<')).map((entry) => [
    entry.key,
    { key: entry.wandb!.key, scale: entry.wandb!.scale },
  ]),
);
const DISK_IO = {
  read: HOST_KEYS.find((entry) => entry.key === 'disk_<dev>_read_bytes')!.wandb!,
  write: HOST_KEYS.find((entry) => entry.key === 'disk_<dev>_write_bytes')!.wandb!,
};

/** The W&B key for one of our system keys (keys W&B has no name for map to themselves). */
export function wandbStatsKey(name: string): StatsKey {
  const fixed = FIXED.get(name);
  if (fixed !== undefined) return fixed;
  const meaning = describeSystemKey(name);
  if (meaning.kind === 'gpu' && meaning.entry.wandb !== undefined) {
    return { key: `gpu.${meaning.index}.${meaning.entry.wandb}`, scale: 1 };
  }
  if (meaning.kind === 'disk') {
    const io = DISK_IO[meaning.direction];
    return { key: io.key.replace('<dev>', meaning.device), scale: io.scale };
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
