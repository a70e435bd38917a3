/**
 * `codex-telemetry demo`: a synthetic training run on defaults that writes every sink the package
 * has, serves /metrics while it runs, and prints where each file went.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TrainConfig } from '../config.js';
import { CliDashboard } from './cli-dashboard.js';
import { startTelemetry, type Telemetry } from '../telemetry.js';
import type { SinkOptions } from './parse-cli.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** The TrainConfig that the demo, run and tail share for their output flags. */
export function trainConfigFromFlags(options: SinkOptions, defaults: Partial<TrainConfig> = {}): TrainConfig {
  const config: TrainConfig = {
    ...defaults,
    outDir: options.out ?? '.',
    ndjson: options.ndjson,
    tensorboard: options.tensorboard,
    wandbEnable: options.wandb,
    prometheus: options.prometheus,
  };
  if (options.prometheusPort !== undefined) config.prometheusPort = options.prometheusPort;
  if (options.prometheusHost !== undefined) config.prometheusHost = options.prometheusHost;
  if (options.systemMetricsInterval !== undefined)
    config.systemMetricsInterval = options.systemMetricsInterval;
  if (options.metricsRotateBytes !== undefined) config.metricsRotateBytes = options.metricsRotateBytes;
  if (options.runId !== undefined) config.runId = options.runId;
  if (options.gpu !== undefined) config.monitoringEnableGpu = options.gpu;
  return config;
}

/** Loss, learning rate and throughput curves that look like a real run. */
export function syntheticStep(step: number, totalSteps: number): Record<string, number> {
  const warmup = Math.max(1, Math.floor(totalSteps * 0.05));
  const peakLr = 3e-4;
  const lr =
    step < warmup
      ? (peakLr * (step + 1)) / warmup
      : 0.5 * peakLr * (1 + Math.cos((Math.PI * (step - warmup)) / (totalSteps - warmup)));
  const noise = Math.sin(step * 12.9898) * 0.02;
  return {
    loss: 2.5 * Math.exp(-step / (totalSteps / 3)) + 0.3 + noise,
    lr,
    grad_norm: 1 + Math.abs(Math.cos(step / 7)) * 0.5,
    throughput_samples_per_second: 1200 + Math.sin(step / 11) * 50,
    tokens_per_second: 2.4e5 + Math.cos(step / 13) * 1e4,
  };
}

export async function runDemo(options: SinkOptions, io: CliIo): Promise<number> {
  const dashboard = new CliDashboard();
  const telemetry = await startTelemetry(
    trainConfigFromFlags(options, { systemMetricsInterval: 1, runName: 'demo' }),
    {
      env: io.env,
      info: (line) => io.stdout.write(`${line}\n`),
      httpRoutes: options.dashboard ? dashboard.routes : undefined,
    },
  );
  const evaluation = telemetry.evaluation();
  if (options.dashboard) {
    const paths = telemetry.paths;
    const line = await dashboard.start(
      () => [paths.metricsOut, ...paths.evalMetricsOut],
      telemetry.config.prometheusHost,
      paths.metricsUrl,
    );
    io.stdout.write(`${line ?? 'demo: no dashboard, /metrics could not be served'}\n`);
  }
  const out = path.resolve(options.out ?? '.');
  io.stdout.write(`demo: run ${telemetry.config.runId}, ${options.steps} steps, writing under ${out}\n`);
  for (let step = 0; step < options.steps; step++) {
    telemetry.log(syntheticStep(step, options.steps), { step });
    const last = step === options.steps - 1;
    if (options.evalEvery > 0 && (step % options.evalEvery === options.evalEvery - 1 || last)) {
      const progress = (step + 1) / options.steps;
      evaluation.log(
        { eval_loss: 2.2 * Math.exp(-3 * progress) + 0.35, accuracy: 0.5 + 0.45 * progress },
        { step },
      );
    }
    if (
      options.checkpointEvery > 0 &&
      (step % options.checkpointEvery === options.checkpointEvery - 1 || last)
    ) {
      await saveFakeCheckpoint(telemetry, out, step);
    }
    if (options.stepDelayMs > 0) await sleep(options.stepDelayMs);
  }
  if (options.serveSeconds > 0 && telemetry.paths.metricsUrl) {
    io.stdout.write(`demo: serving ${telemetry.paths.metricsUrl} for ${options.serveSeconds}s\n`);
    await telemetry.flush();
    await sleep(options.serveSeconds * 1000);
  }
  await telemetry.shutdown(0);
  dashboard.stop();
  printOutputs(telemetry, io);
  return 0;
}

/** A small stand-in checkpoint file, then its run_manifest.json (best effort, as in training). */
async function saveFakeCheckpoint(telemetry: Telemetry, out: string, step: number): Promise<void> {
  const file = path.join(out, 'checkpoints', `step-${step}.ckpt`);
  try {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, `demo checkpoint at step ${step}\n`);
  } catch (error) {
    telemetry.health.markDown('checkpoints', `cannot save a demo checkpoint at ${file}: ${String(error)}`);
    return;
  }
  await telemetry.checkpointSaved(file, { step });
}

function printOutputs(telemetry: Telemetry, io: CliIo): void {
  const paths = telemetry.paths;
  const lines: string[] = [];
  if (paths.metricsOut) lines.push(`ndjson (train+system): ${paths.metricsOut}`);
  for (const file of paths.evalMetricsOut) lines.push(`ndjson (eval): ${file}`);
  if (paths.tensorboardDir)
    lines.push(`tensorboard: ${paths.tensorboardDir}  (tensorboard --logdir ${paths.tensorboardDir})`);
  for (const manifest of paths.manifests ?? []) lines.push(`manifest: ${manifest}`);
  if (paths.wandbRunDir)
    lines.push(`wandb offline run: ${paths.wandbRunDir}  (wandb sync ${paths.wandbRunDir})`);
  for (const [sink, up] of telemetry.health.entries()) {
    if (!up) lines.push(`sink ${sink} was DOWN: ${telemetry.health.reason(sink) ?? 'unknown reason'}`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
}
