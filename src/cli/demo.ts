/**
 * `codex-telemetry demo`: a synthetic training run on defaults that writes every sink the package
 * has, serves /metrics while it runs, and prints where each file went.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode, errorText } from '../errors.js';
import { startTelemetry, type Telemetry } from '../telemetry.js';
import { CliDashboard } from './cli-dashboard.js';
import type { CommandIo } from '../command-line/command-io.js';
import { cliTrainConfig, stderrLines } from './cli-io.js';
import type { SinkOptions } from './parse-cli.js';
import { sinkTable } from './sink-table.js';
import { CREATE_NEW } from '../files/no-follow.js';

/** The demo's own defaults, below flags and the environment. */
const DEMO_DEFAULTS = {
  tensorboard: true,
  wandbEnable: true,
  prometheus: true,
  systemMetricsInterval: 1,
  // No fixed run name: each run gets its own TensorBoard run (`run-<id>`), so two demos into one
  // --out never mix their event files in one run whose steps restart.
} as const;

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

export async function runDemo(options: SinkOptions, io: CommandIo): Promise<number> {
  const warn = stderrLines(io);
  const dashboard = new CliDashboard();
  const telemetry = await startTelemetry(cliTrainConfig(options, DEMO_DEFAULTS, io.env), {
    env: io.env,
    info: (line) => io.stdout.write(`${line}\n`),
    warn,
    httpRoutes: options.dashboard ? dashboard.routes : undefined,
    beforeServerClose: dashboard.finish,
  });
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
  const out = telemetry.config.outDir;
  io.stdout.write(`demo: run ${telemetry.config.runId}, ${options.steps} steps, writing under ${out}\n`);
  // Once the checkpoint folder has failed (a full disk), no more checkpoints are attempted.
  let checkpointsUp = true;
  for (let step = 0; step < options.steps; step++) {
    telemetry.log(syntheticStep(step, options.steps), { step });
    const last = step === options.steps - 1;
    if (options.evalEvery > 0 && (step % options.evalEvery === options.evalEvery - 1 || last)) {
      const progress = (step + 1) / options.steps;
      evaluation.log(
        { loss: 2.2 * Math.exp(-3 * progress) + 0.35, accuracy: 0.5 + 0.45 * progress },
        { step },
      );
    }
    if (
      checkpointsUp &&
      options.checkpointEvery > 0 &&
      (step % options.checkpointEvery === options.checkpointEvery - 1 || last)
    ) {
      checkpointsUp = await saveFakeCheckpoint(telemetry, out, step);
    }
    if (options.stepDelayMs > 0) await sleep(options.stepDelayMs);
  }
  if (options.serveSeconds > 0 && telemetry.paths.metricsUrl) {
    io.stdout.write(`demo: serving ${telemetry.paths.metricsUrl} for ${options.serveSeconds}s\n`);
    await telemetry.flush();
    await sleep(options.serveSeconds * 1000);
  }
  // A demo whose every file sink went down fails, and its W&B run (if its exit record fits) says so:
  // decided after the last flush, which is where a full disk often shows first.
  await telemetry.shutdown(() => (sinkTable(telemetry).allFileSinksDown ? 1 : 0));
  dashboard.stop();
  const table = sinkTable(telemetry);
  io.stdout.write(table.text);
  if (!table.anyFileWritten) {
    warn(`demo: no sink wrote anything under ${out}; see the DOWN reasons above`);
    return 1;
  }
  if (table.allFileSinksDown) {
    warn(`demo: every file sink went down (${table.fileSinksDown.join(', ')}); see the DOWN reasons above`);
    return 1;
  }
  return 0;
}

/**
 * A small stand-in checkpoint file, then its run_manifest.json (best effort, as in training).
 * False when the checkpoint could not be written: the demo attempts no more.
 */
async function saveFakeCheckpoint(telemetry: Telemetry, out: string, step: number): Promise<boolean> {
  // One folder per run: a second demo into the same --out keeps the first one's manifests.
  const file = path.join(out, 'checkpoints', telemetry.config.runId, `step-${step}.ckpt`);
  try {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, `demo checkpoint at step ${step}\n`, { flag: CREATE_NEW });
  } catch (error) {
    // A half-written checkpoint is no checkpoint: remove it (best effort on a failing disk).
    await fs.promises.rm(file, { force: true }).catch((removeError: unknown) => {
      if (errnoCode(removeError) === undefined) throw removeError;
    });
    telemetry.health.markDown(
      'checkpoints',
      `cannot save a demo checkpoint at ${file}: ${errorText(error)}; no more checkpoints are attempted`,
    );
    return false;
  }
  await telemetry.checkpointSaved(file, { step });
  return true;
}
