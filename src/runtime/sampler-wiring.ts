/**
 * Starts the system sampler for a run: only when the interval is above 0 (otherwise no sampler,
 * no timer, NVML never loaded) and only on local rank 0, so ranks on one machine do not report the
 * same host N times. Samples go to the file pipeline as rows and to the backends as instruments.
 */
import type { Meter } from '@opentelemetry/api';
import type { ResolvedTrainConfig } from '../config/train-config.js';
import { registerSystemInstruments } from '../instruments/system-instruments.js';
import type { SinkHealth, WarnFn } from '../health.js';
import { SystemSampler } from '../system/system-sampler.js';

export interface RunningSampler {
  sampler: SystemSampler;
  stop(): void;
}

export async function startSystemSampler(options: {
  config: ResolvedTrainConfig;
  health: SinkHealth;
  warn: WarnFn;
  meter: Meter | undefined;
  pid: number | undefined;
  onSample: (sample: { ts: number; seq: number; values: Readonly<Record<string, number>> }) => void;
}): Promise<RunningSampler | undefined> {
  const { config } = options;
  if (config.systemMetricsInterval <= 0 || config.localRank !== 0) return undefined;
  const sampler = new SystemSampler({
    intervalSeconds: config.systemMetricsInterval,
    gpu: config.monitoringEnableGpu,
    nvmlLibrary: config.nvmlLibrary,
    outputDir: config.outDir,
    pid: options.pid,
    health: options.health,
    cudaVisibleDevices: config.cudaVisibleDevices,
    warn: options.warn,
    onSample: options.onSample,
  });
  const instruments = options.meter ? registerSystemInstruments(options.meter, sampler) : undefined;
  await sampler.start();
  return {
    sampler,
    stop() {
      sampler.stop();
      instruments?.unregister();
    },
  };
}
