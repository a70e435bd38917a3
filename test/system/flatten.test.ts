import { expect, test } from 'vitest';
import { wandbStatsKey } from '../../src/exporters/wandb/stats-keys.js';
import { describeSystemKey, flattenGpus, flattenHost } from '../../src/system/keys/flatten.js';
import { GPU_KEYS, gpuKeyEntry, gpuSlot } from '../../src/system/keys/gpu-keys.js';
import { HOST_KEYS } from '../../src/system/keys/host-keys.js';
import type { FlatValues, HostSample } from '../../src/system/sample.js';

const info = { index: 3, uuid: 'GPU-x', name: 'n', driverVersion: 'd' };

test('a GPU sample flattens to gpu_<i>_<key> for measured slots only: NaN stays absent, never 0', () => {
  const values = new Float64Array(GPU_KEYS.length).fill(NaN);
  values[gpuSlot('power_w')] = 250.5;
  values[gpuSlot('throttle_thermal')] = 0;
  const flat: FlatValues = {};
  flattenGpus([{ info, values }], flat);
  expect(flat).toEqual({ gpu_3_power_w: 250.5, gpu_3_throttle_thermal: 0 });
});

test('a full host sample flattens to exactly the non-pattern keys of HOST_KEYS, plus one pair per disk', () => {
  const host: HostSample = {
    cpu: { busyPercent: 50, userPercent: 30, systemPercent: 15, iowaitPercent: 5 },
    load: { load1: 1, load5: 2, load15: 3 },
    memory: { usedBytes: 6, availableBytes: 4, totalBytes: 10, percent: 60 },
    swap: { usedBytes: 1, totalBytes: 2 },
    filesystem: { usedBytes: 7, totalBytes: 9, percent: 77 },
    disks: [{ name: 'nvme0n1', readBytes: 11, writeBytes: 12 }],
    network: { sentBytes: 13, recvBytes: 14 },
    interfaces: [],
    process: { cpuPercent: 20, rssBytes: 15, memPercent: 1.5, threads: 8, openFds: 30 },
    processTree: [1],
  };
  const flat: FlatValues = {};
  flattenHost(host, flat);
  const expectedKeys = HOST_KEYS.filter((entry) => !entry.key.includes('<')).map((entry) => entry.key);
  expect(Object.keys(flat).sort()).toEqual(
    [...expectedKeys, 'disk_nvme0n1_read_bytes', 'disk_nvme0n1_write_bytes'].sort(),
  );
  expect(flat.ram_available_bytes).toBe(4);
  expect(flat.proc_open_fds).toBe(30);
});

test('keys replayed from another process’s file are read back by the same rules that build them', () => {
  expect(describeSystemKey('gpu_12_power_w')).toEqual({
    kind: 'gpu',
    index: 12,
    entry: gpuKeyEntry('power_w'),
  });
  expect(describeSystemKey('disk_dm-0_write_bytes')).toEqual({
    kind: 'disk',
    device: 'dm-0',
    direction: 'write',
  });
  for (const name of ['gpu_1x_power_w', 'gpu_0_no_such_key', 'gpu__power_w', 'disk__read_bytes', 'loss']) {
    expect(describeSystemKey(name), name).toEqual({ kind: 'host', key: name });
  }
});

test('W&B gets its own GPU names where it has one and our name elsewhere', () => {
  expect(wandbStatsKey('gpu_12_power_w')).toEqual({ key: 'gpu.12.powerWatts', scale: 1 });
  expect(wandbStatsKey('gpu_0_ecc_corrected')).toEqual({ key: 'gpu.0.correctedMemoryErrors', scale: 1 });
  expect(wandbStatsKey('gpu_0_energy_j')).toEqual({ key: 'gpu_0_energy_j', scale: 1 });
  expect(wandbStatsKey('gpu_0_proc_mem_used_bytes')).toEqual({ key: 'gpu_0_proc_mem_used_bytes', scale: 1 });
  expect(wandbStatsKey('disk_sda_read_bytes')).toEqual({ key: 'disk.sda.in', scale: 1 / 2 ** 20 });
  for (const entry of GPU_KEYS) {
    const mapped = wandbStatsKey(`gpu_5_${entry.key}`).key;
    expect(mapped).toBe(entry.wandb === undefined ? `gpu_5_${entry.key}` : `gpu.5.${entry.wandb}`);
  }
});
