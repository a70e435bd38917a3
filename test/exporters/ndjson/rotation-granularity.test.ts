/**
 * `--metrics-rotate-bytes 20000` gave 64 KB segments: a stream rotates at the first flush past the
 * bound, so a segment holds the bound plus at most one flush's rows. README documents that rule;
 * these tests hold the code to it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry } from '../../../src/telemetry.js';

const BOUND = 20_000;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Logs `steps` rows, flushing every `rowsPerFlush`; returns the closed segments' sizes and the longest line. */
async function segmentSizes(steps: number, rowsPerFlush: number): Promise<{ sizes: number[]; line: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-rotate-granularity-'));
  dirs.push(dir);
  const telemetry = await startTelemetry(
    {
      outDir: dir,
      metricsRotateBytes: BOUND,
      flushInterval: 0,
      systemMetricsInterval: 0,
      installExitHandlers: false,
    },
    { env: {} },
  );
  for (let step = 0; step < steps; step++) {
    telemetry.log({ loss: 1 / (step + 1), lr: 0.001, grad_norm: 1.5 }, { step });
    if (step % rowsPerFlush === rowsPerFlush - 1) await telemetry.flush();
  }
  await telemetry.shutdown();
  const codex = path.join(dir, '.codex');
  const segments = fs
    .readdirSync(codex)
    .filter((name) => /^metrics\.\d+\.ndjson$/.test(name))
    .sort();
  const text = segments.map((name) => fs.readFileSync(path.join(codex, name), 'utf8')).join('');
  const line = Math.max(...text.split('\n').map((l) => Buffer.byteLength(l) + 1));
  return { sizes: segments.map((name) => fs.statSync(path.join(codex, name)).size), line };
}

describe('the granularity of --metrics-rotate-bytes', () => {
  it('closes each segment at the first flush past the bound: the bound plus at most one flush of rows', async () => {
    const rowsPerFlush = 50;
    const { sizes, line } = await segmentSizes(3000, rowsPerFlush);
    expect(sizes.length).toBeGreaterThan(3);
    for (const size of sizes) {
      expect(size).toBeGreaterThanOrEqual(BOUND);
      // One flush is rowsPerFlush rows of three scalars, one line each.
      expect(size).toBeLessThan(BOUND + rowsPerFlush * 3 * line);
    }
  });

  it('rotates within a line or so of the bound when every row is flushed on its own', async () => {
    const { sizes, line } = await segmentSizes(1500, 1);
    expect(sizes.length).toBeGreaterThan(3);
    for (const size of sizes) expect(size).toBeLessThan(BOUND + 3 * line * 2);
  });
});
