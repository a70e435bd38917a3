/**
 * Disk faults: EACCES, EROFS, ENOSPC and EFBIG (ulimit -f). The run continues, each sink degrades
 * once with a message naming the path and the error, the others keep writing, shutdown completes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Telemetry } from '../../src/telemetry.js';
import { startWithExportedHealth, type ExportedHealth, type SinkUp } from '../helpers/exported-sink-up.js';

const BIN = fileURLToPath(new URL('../../dist/src/cli/codex-telemetry.js', import.meta.url));
const cleanups: Array<() => void> = [];
const started: ExportedHealth[] = [];
afterEach(async () => {
  for (const run of started.splice(0)) await run.close();
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

async function start(
  config: Parameters<typeof startWithExportedHealth>[0],
  warnings: string[],
): Promise<ExportedHealth> {
  const run = await startWithExportedHealth(config, { warn: (w) => warnings.push(w) });
  started.push(run);
  return run;
}

/** The exported `codex_sink_up` on /metrics before shutdown and in the final OTLP push after it. */
async function exportedAfterTraining(run: ExportedHealth, steps: number): Promise<[SinkUp, SinkUp]> {
  await train(run.telemetry, steps);
  await run.telemetry.flush();
  const scraped = await run.scrape();
  await run.close();
  return [scraped, run.lastPushed()];
}

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-fault-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A tmpfs of our own (read-only or tiny), so the kernel itself returns EROFS / ENOSPC. */
function mountTmpfs(options: string): string {
  const dir = tmpDir();
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`cannot mount a tmpfs for the disk-fault tests (needs root): ${result.stderr}`);
  cleanups.push(() => spawnSync('umount', [dir]));
  return dir;
}

async function train(telemetry: Telemetry, steps: number): Promise<void> {
  const evaluation = telemetry.evaluation();
  for (let step = 0; step < steps; step++) {
    expect(telemetry.log({ loss: 1 / (step + 1), lr: 3e-4, grad_norm: 0.5 }, { step })).toBe(true);
    if (step % 100 === 99) {
      evaluation.log({ accuracy: step / steps }, { step });
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

const sinkWarnings = (warnings: string[], sink: string): string[] =>
  warnings.filter((w) => w.includes(`${sink} sink disabled`));

describe('disk faults', () => {
  it('EACCES on the metrics stream takes only that sink down; TensorBoard, W&B and eval keep writing', async () => {
    const outDir = tmpDir();
    const warnings: string[] = [];
    const run = await start(
      {
        outDir,
        metricsOut: '/sys/kernel/codex-telemetry-test.ndjson',
        tensorboard: true,
        wandbEnable: true,
        systemMetricsInterval: 0,
        installExitHandlers: false,
        flushInterval: 0.01,
      },
      warnings,
    );
    const telemetry = run.telemetry;
    const exported = await exportedAfterTraining(run, 1000);
    for (const up of exported)
      expect(up).toMatchObject({ ndjson: 0, ndjson_eval: 1, tensorboard: 1, wandb: 1 });
    expect(sinkWarnings(warnings, 'ndjson')).toHaveLength(1);
    expect(warnings[0]).toContain('EACCES');
    expect(warnings[0]).toContain('/sys/kernel/codex-telemetry-test.ndjson');
    expect(Object.fromEntries(telemetry.health.entries())).toMatchObject({
      ndjson: false,
      ndjson_eval: true,
      tensorboard: true,
      wandb: true,
    });
    expect(
      fs.readFileSync(path.join(outDir, '.codex/eval_metrics.ndjson'), 'utf8').trim().split('\n'),
    ).toHaveLength(10);
  });

  it('EROFS for the TensorBoard logdir takes only TensorBoard down', async () => {
    const readOnly = mountTmpfs('ro,size=1m');
    const outDir = tmpDir();
    const warnings: string[] = [];
    const run = await start(
      {
        outDir,
        tensorboard: true,
        tensorboardDir: path.join(readOnly, 'tb'),
        wandbEnable: true,
        systemMetricsInterval: 0,
        installExitHandlers: false,
        flushInterval: 0.01,
      },
      warnings,
    );
    const telemetry = run.telemetry;
    const exported = await exportedAfterTraining(run, 500);
    for (const up of exported) expect(up).toMatchObject({ tensorboard: 0, ndjson: 1, wandb: 1 });
    expect(sinkWarnings(warnings, 'tensorboard')).toHaveLength(1);
    expect(warnings.join('\n')).toContain('EROFS');
    expect(Object.fromEntries(telemetry.health.entries())).toMatchObject({
      tensorboard: false,
      ndjson: true,
      wandb: true,
    });
    expect(
      fs.readFileSync(path.join(outDir, '.codex/metrics.ndjson'), 'utf8').trim().split('\n'),
    ).toHaveLength(1500);
  });

  it('ENOSPC on a full volume: every file sink degrades once, training and shutdown complete', async () => {
    const tiny = mountTmpfs('size=256k');
    const warnings: string[] = [];
    const run = await start(
      {
        outDir: tiny,
        tensorboard: true,
        wandbEnable: true,
        systemMetricsInterval: 0,
        installExitHandlers: false,
        flushInterval: 0.01,
      },
      warnings,
    );
    const telemetry = run.telemetry;
    await train(telemetry, 20_000);
    await telemetry.flush();
    const scraped = await run.scrape();
    const atScrape = Object.fromEntries(telemetry.health.entries().map(([sink, up]) => [sink, up ? 1 : 0]));
    await run.close();
    const down = telemetry.health
      .entries()
      .filter(([, up]) => !up)
      .map(([sink]) => sink);
    expect(down.length).toBeGreaterThan(0);
    // Every sink down is exported as 0 and every other one as 1; a sink down at the scrape stays 0
    // in the final push (file sinks never come back).
    expect(scraped).toEqual(atScrape);
    const pushed = run.lastPushed();
    expect(Object.keys(pushed).sort()).toEqual(Object.keys(atScrape).sort());
    for (const [sink, up] of Object.entries(atScrape)) if (up === 0) expect(pushed[sink], sink).toBe(0);
    for (const sink of down) expect(sinkWarnings(warnings, sink), sink).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('sink disabled')).every((w) => w.includes('ENOSPC'))).toBe(true);
  });

  it('EFBIG under ulimit -f: the demo still finishes with exit code 0 and reports the sinks down', () => {
    const outDir = tmpDir();
    const result = spawnSync(
      'bash',
      [
        '-c',
        `ulimit -f 64; exec "${process.execPath}" "${BIN}" demo --out "${outDir}" --steps 3000 --step-delay-ms 0 --no-prometheus --system-metrics-interval 0`,
      ],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, CODEX_FLUSH_INTERVAL: '0.05' } },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('EFBIG');
    expect(result.stdout).toMatch(/sink \w+ was DOWN: cannot write .* \(EFBIG/);
    const warned = result.stderr.split('\n').filter((line) => line.includes('sink disabled'));
    const sinks = warned.map((line) => /codex-telemetry: (\w+) sink disabled/.exec(line)?.[1]);
    expect(new Set(sinks).size).toBe(sinks.length); // once per sink
  });
});
