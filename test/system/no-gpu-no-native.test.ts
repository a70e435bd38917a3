/**
 * Its own file, so its own process (vitest's forks pool): no other test has loaded koffi here, and
 * the process's memory map tells whether a native library was ever loaded.
 */
import fs from 'node:fs';
import os from 'node:os';
import { expect, test } from 'vitest';
import { SinkHealth } from '../../src/health.js';
import { SystemSampler, type SystemSample } from '../../src/system/system-sampler.js';

const mappedLibraries = (): string[] =>
  fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => /koffi|nvidia-ml/.test(line));

test.runIf(fs.existsSync('/proc/self/maps') || process.env.CI)(
  'a sampler constructed with gpu=false never loads koffi or libnvidia-ml',
  async () => {
    expect(mappedLibraries()).toEqual([]);
    const samples: SystemSample[] = [];
    const health = new SinkHealth(() => undefined);
    const sampler = new SystemSampler({
      intervalSeconds: 0.01,
      gpu: false,
      nvmlLibrary: '/should/never/be/opened/libnvidia-ml.so.1',
      outputDir: os.tmpdir(),
      health,
      onSample: (sample) => samples.push(sample),
    });
    await sampler.start();
    while (samples.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    await sampler.stop();
    expect(mappedLibraries()).toEqual([]);
    expect(health.entries()).toEqual([['system', true]]);
    expect(sampler.gpus).toEqual([]);
  },
);
