/**
 * CUDA_VISIBLE_DEVICES as the CUDA runtime reads it: a comma list of device indices or UUIDs
 * (`GPU-…`, a unique prefix is enough). Parsing stops at the first entry CUDA would reject, since
 * CUDA ignores everything from there on. Unset means every GPU; an empty string means none.
 */
export type VisibleDevice =
  { readonly kind: 'index'; readonly index: number } | { readonly kind: 'uuid'; readonly uuid: string };

export interface VisibleDevices {
  /** undefined: the variable is unset, every GPU is visible. */
  readonly devices: readonly VisibleDevice[] | undefined;
  /** Entries that were ignored and why (MIG instances, invalid entries and what followed them). */
  readonly ignored: readonly string[];
}

export function parseCudaVisibleDevices(value: string | undefined): VisibleDevices {
  if (value === undefined) return { devices: undefined, ignored: [] };
  const devices: VisibleDevice[] = [];
  const ignored: string[] = [];
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.length === 1 && entries[0] === '') return { devices, ignored };
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (/^\d+$/.test(entry)) {
      devices.push({ kind: 'index', index: Number(entry) });
    } else if (/^GPU-[0-9a-fA-F-]+$/.test(entry)) {
      devices.push({ kind: 'uuid', uuid: entry });
    } else if (entry.startsWith('MIG-')) {
      // MIG instances have no utilization or power of their own in NVML's device queries.
      ignored.push(`${entry} (MIG instance: not sampled)`);
    } else {
      ignored.push(
        `${entries.slice(i).join(',')} (CUDA ignores "${entry}" and every entry after an invalid one)`,
      );
      break;
    }
  }
  return { devices, ignored };
}
