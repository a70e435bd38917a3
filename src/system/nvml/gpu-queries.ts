/**
 * How each group of GPU keys is read from NVML: one entry per "field", the unit NVML answers
 * NOT_SUPPORTED, NO_PERMISSION or a missing symbol for. A field names the functions that can
 * answer it, newest first (a driver offers one of them), and writes the GPU_KEYS slots it fills.
 * Outputs come back in the library's native scratch block, so a read allocates nothing.
 */
import { GPU_ACTIVITY_QUERIES } from './gpu-activity-queries.js';
import { GPU_HEALTH_QUERIES } from './gpu-health-queries.js';
import type { GpuQuery } from './gpu-query.js';
import { S } from './gpu-slots.js';

export type { GpuQuery, QueryContext } from './gpu-query.js';

export const GPU_QUERIES: readonly GpuQuery[] = [...GPU_ACTIVITY_QUERIES, ...GPU_HEALTH_QUERIES];

/** Keys derived from others after every query ran. */
export function deriveGpuKeys(out: Float64Array): void {
  const power = out[S.power];
  const limit = out[S.powerLimit];
  if (power === power && limit > 0) out[S.powerPercent] = (power / limit) * 100;
}
