import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { streamFiles } from '../../../src/ndjson/segments.js';
import { startTelemetry } from '../../../src/telemetry.js';
import type { TrainConfig } from '../../../src/config/train-config.js';
import { parseLine } from '../../helpers/ndjson-lines.js';

const CHILD = fileURLToPath(new URL('../../fixtures/children/log-forever.mjs', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-rotate-'));
  dirs.push(dir);
  return dir;
}

function readStream(active: string): string[] {
  return streamFiles(active).flatMap((file) => {
    const bytes = fs.readFileSync(file);
    const text = (file.endsWith('.gz') ? zlib.gunzipSync(bytes) : bytes).toString('utf8');
    return text.split('\n').filter((line) => line !== '');
  });
}

async function run(config: TrainConfig, steps: number, pauseEvery = 0, pauseMs = 5): Promise<string> {
  const outDir = tmpDir();
  const telemetry = await startTelemetry(
    {
      outDir,
      runId: 'rot00001',
      systemMetricsInterval: 0,
      installExitHandlers: false,
      flushInterval: 0.01,
      ...config,
    },
    { env: {}, info: () => undefined },
  );
  for (let step = 0; step < steps; step++) {
    telemetry.log({ loss: 1 / (step + 1), lr: step * 1e-6 }, { step });
    if (pauseEvery > 0 && step % pauseEvery === pauseEvery - 1)
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  await telemetry.shutdown();
  return path.join(outDir, '.codex/metrics.ndjson');
}

const strip = (line: string): string => line.replace(/"ts":[^,]+,/, '');

describe('NDJSON rotation', () => {
  it('by size: closed segments keep .ndjson, sort in write order, and together equal the unrotated stream', async () => {
    const plain = readStream(await run({}, 3000, 100));
    const active = await run({ metricsRotateBytes: 20_000 }, 3000, 100);
    const files = streamFiles(active);
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(files.slice(0, -1).every((file) => /metrics\.\d{6}\.ndjson$/.test(file))).toBe(true);
    expect([...files.slice(0, -1)].sort()).toEqual(files.slice(0, -1));
    expect(readStream(active).map(strip)).toEqual(plain.map(strip));
    for (const file of files.slice(0, -2)) expect(fs.statSync(file).size).toBeGreaterThanOrEqual(20_000);
  });

  it('by time: a stream older than metricsRotateSeconds starts a new segment', async () => {
    // 20 pauses of 15 ms: at least 300 ms of logging, so six 50 ms windows.
    const active = await run({ metricsRotateSeconds: 0.05 }, 400, 20, 15);
    const files = streamFiles(active);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const lines = readStream(active).map(parseLine);
    expect(lines).toHaveLength(800);
    expect(lines.map((line) => `${String(line.step)}${line.name}`)).toEqual(
      Array.from({ length: 400 }, (_, step) => [`${step}loss`, `${step}lr`]).flat(),
    );
  });

  it('gzips closed segments and caps how many are kept, oldest removed first with a log line', async () => {
    const outDir = tmpDir();
    const info: string[] = [];
    const telemetry = await startTelemetry(
      {
        outDir,
        systemMetricsInterval: 0,
        installExitHandlers: false,
        flushInterval: 0.01,
        metricsRotateBytes: 5_000,
        metricsRotateGzip: true,
        metricsRotateKeep: 2,
      },
      { env: {}, info: (line) => info.push(line) },
    );
    for (let step = 0; step < 2000; step++) {
      telemetry.log({ loss: step }, { step });
      if (step % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 3));
    }
    await telemetry.shutdown();
    const active = path.join(outDir, '.codex/metrics.ndjson');
    const files = streamFiles(active);
    expect(files).toHaveLength(3);
    expect(files.slice(0, 2).every((file) => file.endsWith('.ndjson.gz'))).toBe(true);
    expect(info.length).toBeGreaterThan(0);
    expect(info[0]).toMatch(/removed old metrics segment .*metrics\.000001\.ndjson\.gz/);
    // What is kept is the newest part of the stream, contiguous and ending at the last step.
    const steps = readStream(active).map((line) => Number(parseLine(line).step));
    expect(steps.at(-1)).toBe(1999);
    steps.forEach((step, i) => i > 0 && expect(step).toBe((steps[i - 1] as number) + 1));
  });

  it('never splits, loses or duplicates a line when SIGKILL lands during rotations', async () => {
    for (let attempt = 0; attempt < 4; attempt++) {
      const outDir = tmpDir();
      const child = spawn(process.execPath, [CHILD, outDir], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, CODEX_METRICS_ROTATE_BYTES: '4000' },
      });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const active = path.join(outDir, '.codex/metrics.ndjson');
      const deadline = Date.now() + 20_000;
      while (streamFiles(active).length < 4 + attempt && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // Land the kill at a different point of the write/rename cycle each attempt.
      await new Promise((resolve) => setTimeout(resolve, attempt * 13));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const files = streamFiles(active);
      expect(files.length).toBeGreaterThan(3);
      // Segments are whole; only the active file may end in a torn line.
      const keys: string[] = [];
      for (const [index, file] of files.entries()) {
        const text = fs.readFileSync(file, 'utf8');
        const lines = text.split('\n');
        const tail = lines.pop() as string;
        if (index < files.length - 1 || file !== active) expect(tail).toBe('');
        for (const line of lines) {
          const parsed = parseLine(line);
          keys.push(`${String(parsed.step)}/${parsed.name}`);
        }
      }
      expect(new Set(keys).size).toBe(keys.length);
      const names = ['loss', 'lr', 'throughput', 'grad_norm', 'long_name_to_make_lines_vary_in_length'];
      keys.forEach((key, i) => expect(key).toBe(`${Math.floor(i / 5)}/${names[i % 5]}`));
    }
  });
});
