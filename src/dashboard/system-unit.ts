/**
 * The unit of a system key, read from the sampler's own key tables (host keys, per-GPU keys), so a
 * chart of `ram_used_bytes` says bytes and `gpu_0_temp_c` says °C without a second list to keep.
 */
import { gpuKeyEntry } from '../system/keys/gpu-keys.js';
import { HOST_KEYS } from '../system/keys/host-keys.js';

const GPU_KEY = /^gpu_\d+_(.+)$/;

/** Host keys with `<dev>` (one key per disk) become patterns; the rest are looked up as they are. */
const HOST_UNITS = new Map(HOST_KEYS.filter((k) => !k.key.includes('<')).map((k) => [k.key, k.unit]));
const HOST_PATTERNS: [RegExp, string][] = HOST_KEYS.filter((k) => k.key.includes('<')).map((k) => [
  new RegExp(`^${k.key.replace(/<dev>/g, '.+')}$`),
  k.unit,
]);

/** The unit of flat system key `key` (`ram_used_bytes`, `disk_sda_read_bytes`, `gpu_0_power_w`). */
export function systemUnit(key: string): string | undefined {
  const gpu = GPU_KEY.exec(key);
  if (gpu !== null) return gpuKeyEntry(gpu[1] as string)?.unit;
  return HOST_UNITS.get(key) ?? HOST_PATTERNS.find(([pattern]) => pattern.test(key))?.[1];
}
