/**
 * Every per-GPU key, in one table: flat key `gpu_<i>_<key>`, unit, what NVML call answers it, the
 * DCGM exporter field that measures the same thing (so dashboards port), the OpenTelemetry
 * instrument and the W&B system-metric name. docs/system-keys.md shows this table (a test holds
 * them equal); instruments, W&B and the sampler all read it. The NVML calls that fill each key
 * are in src/system/nvml/gpu-queries.ts.
 */
import { GPU_ACTIVITY_KEYS } from './gpu-activity-keys.js';
import { GPU_HEALTH_KEYS } from './gpu-health-keys.js';

export type { GpuKey } from './gpu-key.js';
import type { GpuKey } from './gpu-key.js';

export const GPU_KEYS: readonly GpuKey[] = [...GPU_ACTIVITY_KEYS, ...GPU_HEALTH_KEYS];

const SLOTS = new Map(GPU_KEYS.map((entry, index) => [entry.key, index]));

/** The position of a key in GPU_KEYS (and in a GpuSample's values); throws for an unknown key. */
export function gpuSlot(key: string): number {
  const slot = SLOTS.get(key);
  if (slot === undefined) throw new Error(`gpuSlot: "${key}" is not in GPU_KEYS`);
  return slot;
}

/** The table entry for a key suffix, or undefined. */
export function gpuKeyEntry(key: string): GpuKey | undefined {
  const slot = SLOTS.get(key);
  return slot === undefined ? undefined : GPU_KEYS[slot];
}
