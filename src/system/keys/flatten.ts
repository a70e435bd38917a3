/**
 * The one place typed sample parts become flat keys (docs/system-keys.md), and the one place a
 * flat key is read back into what it means (for sinks that get only names, such as rows a bridge
 * replays from another process's file). Key names are built once per GPU or disk and reused.
 */
import type { FlatValues, DiskIo, GpuSample } from '../sample.js';
import { GPU_KEYS, gpuKeyEntry, type GpuKey } from './gpu-keys.js';

const gpuKeyNameCache: string[][] = [];

/** `gpu_<i>_<key>` for every GPU_KEYS slot of GPU i. */
export function gpuKeyNames(index: number): readonly string[] {
  let names = gpuKeyNameCache[index];
  if (names === undefined) {
    names = GPU_KEYS.map((entry) => `gpu_${index}_${entry.key}`);
    gpuKeyNameCache[index] = names;
    names.forEach((name, slot) => described.set(name, { kind: 'gpu', index, entry: GPU_KEYS[slot] }));
  }
  return names;
}

/** Writes every measured GPU key (NaN slots stay absent). */
export function flattenGpus(gpus: readonly GpuSample[], values: FlatValues): void {
  for (const gpu of gpus) {
    const names = gpuKeyNames(gpu.info.index);
    const slots = gpu.values;
    for (let slot = 0; slot < slots.length; slot++) {
      const value = slots[slot];
      if (value === value) values[names[slot]] = value;
    }
  }
}

const diskKeyNames = new Map<string, readonly [string, string]>();

/** Writes `disk_<dev>_read_bytes` and `disk_<dev>_write_bytes` for each disk. */
export function flattenDisks(disks: readonly DiskIo[], values: FlatValues): void {
  for (const disk of disks) {
    let names = diskKeyNames.get(disk.name);
    if (names === undefined) {
      names = [`disk_${disk.name}_read_bytes`, `disk_${disk.name}_write_bytes`];
      diskKeyNames.set(disk.name, names);
      described.set(names[0], { kind: 'disk', device: disk.name, direction: 'read' });
      described.set(names[1], { kind: 'disk', device: disk.name, direction: 'write' });
    }
    values[names[0]] = disk.readBytes;
    values[names[1]] = disk.writeBytes;
  }
}

export type SystemKeyMeaning =
  | { readonly kind: 'gpu'; readonly index: number; readonly entry: GpuKey }
  | { readonly kind: 'disk'; readonly device: string; readonly direction: 'read' | 'write' }
  | { readonly kind: 'host'; readonly key: string };

const described = new Map<string, SystemKeyMeaning>();

/**
 * What a flat key means. Keys this process built are looked up; others (a replayed file) are
 * decoded by the same rules that build them, once each.
 */
export function describeSystemKey(name: string): SystemKeyMeaning {
  let meaning = described.get(name);
  if (meaning === undefined) {
    meaning = decode(name);
    described.set(name, meaning);
  }
  return meaning;
}

const GPU_PREFIX = 'gpu_';
const DISK_PREFIX = 'disk_';
const READ_SUFFIX = '_read_bytes';
const WRITE_SUFFIX = '_write_bytes';

function decode(name: string): SystemKeyMeaning {
  if (name.startsWith(GPU_PREFIX)) {
    const underscore = name.indexOf('_', GPU_PREFIX.length);
    const digits = name.slice(GPU_PREFIX.length, underscore);
    const entry = gpuKeyEntry(name.slice(underscore + 1));
    if (underscore > GPU_PREFIX.length && entry && String(Number(digits)) === digits) {
      return { kind: 'gpu', index: Number(digits), entry };
    }
  } else if (name.startsWith(DISK_PREFIX)) {
    for (const [suffix, direction] of [
      [READ_SUFFIX, 'read'],
      [WRITE_SUFFIX, 'write'],
    ] as const) {
      if (name.endsWith(suffix) && name.length > DISK_PREFIX.length + suffix.length) {
        return { kind: 'disk', device: name.slice(DISK_PREFIX.length, -suffix.length), direction };
      }
    }
  }
  return { kind: 'host', key: name };
}
