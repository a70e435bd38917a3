/**
 * Opt-in hardware check (CODEX_REAL_GPU=1 on a machine with an NVIDIA driver): samples the real
 * libnvidia-ml.so.1 for about 10 s and compares every GPU's keys with `nvidia-smi --query-gpu`
 * read at the same moments. Not run otherwise: ordinary machines and CI have no GPU.
 * Writes the side-by-side table to $OUT/real-gpu.json when OUT is set.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { SinkHealth } from '../../src/pipeline/sink-health.js';
import { SystemSampler, type SystemSample } from '../../src/system/system-sampler.js';

const QUERY = [
  'index',
  'uuid',
  'name',
  'driver_version',
  'utilization.gpu',
  'utilization.memory',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'enforced.power.limit',
  'clocks.sm',
  'clocks.mem',
  'clocks.gr',
] as const;

function nvidiaSmi(): Array<Record<(typeof QUERY)[number], string>> {
  const csv = execFileSync(
    'nvidia-smi',
    [`--query-gpu=${QUERY.join(',')}`, '--format=csv,noheader,nounits'],
    {
      encoding: 'utf8',
    },
  );
  return csv
    .trim()
    .split('\n')
    .map((line) => {
      const cells = line.split(',').map((cell) => cell.trim());
      return Object.fromEntries(QUERY.map((name, i) => [name, cells[i]])) as Record<
        (typeof QUERY)[number],
        string
      >;
    });
}

test.runIf(process.env.CODEX_REAL_GPU === '1')(
  'real NVML samples agree with nvidia-smi on identity, memory, power limit and clocks',
  async () => {
    const samples: SystemSample[] = [];
    const health = new SinkHealth();
    const sampler = new SystemSampler({
      intervalSeconds: 1,
      gpu: true,
      nvmlLibrary: process.env.CODEX_NVML_LIBRARY,
      outputDir: os.tmpdir(),
      health,
      cudaVisibleDevices: process.env.CUDA_VISIBLE_DEVICES,
      onSample: (sample) => samples.push(sample),
    });
    const cpuBefore = process.cpuUsage();
    sampler.start();
    const rows: Array<{ ours: Record<string, number>; smi: ReturnType<typeof nvidiaSmi> }> = [];
    while (samples.length < 10) {
      const seen = samples.length;
      while (samples.length === seen) await new Promise((resolve) => setTimeout(resolve, 20));
      rows.push({ ours: { ...samples.at(-1)!.values }, smi: nvidiaSmi() });
    }
    const cpu = process.cpuUsage(cpuBefore);
    sampler.stop();
    expect(health.isUp('nvml')).toBe(true);
    expect(sampler.gpus.length).toBeGreaterThan(0);

    const report = {
      gpus: sampler.gpus,
      rows,
      cpuMsPerSampleIncludingHost: (cpu.user + cpu.system) / 1000 / 10,
    };
    if (process.env.OUT)
      fs.writeFileSync(path.join(process.env.OUT, 'real-gpu.json'), JSON.stringify(report, null, 2));

    for (const gpu of sampler.gpus) {
      const smi = rows[0].smi.find((row) => Number(row.index) === gpu.index)!;
      expect(gpu.uuid).toBe(smi.uuid);
      expect(gpu.name).toBe(smi.name);
      expect(gpu.driverVersion).toBe(smi.driver_version);
      for (const { ours, smi: smiRows } of rows) {
        const row = smiRows.find((r) => Number(r.index) === gpu.index)!;
        const p = `gpu_${gpu.index}_`;
        expect(ours[`${p}mem_total_bytes`] / 2 ** 20).toBeCloseTo(Number(row['memory.total']), -2);
        expect(Math.abs(ours[`${p}mem_used_bytes`] / 2 ** 20 - Number(row['memory.used']))).toBeLessThan(
          1024,
        );
        expect(ours[`${p}power_limit_w`]).toBeCloseTo(Number(row['enforced.power.limit']), 0);
        expect(Math.abs(ours[`${p}temp_c`] - Number(row['temperature.gpu']))).toBeLessThanOrEqual(3);
        expect(Math.abs(ours[`${p}power_w`] - Number(row['power.draw']))).toBeLessThan(50);
        expect(Math.abs(ours[`${p}util_percent`] - Number(row['utilization.gpu']))).toBeLessThanOrEqual(20);
        expect(ours[`${p}mem_clock_mhz`]).toBe(Number(row['clocks.mem']));
      }
    }
  },
  60_000,
);
