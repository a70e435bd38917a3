import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry } from '../../../src/telemetry.js';
import { runSummarize } from './run-command.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes the same 2000 steps with or without rotation (gzip segments), returns the .codex dir. */
async function stream(rotate: boolean): Promise<string> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-sum-rot-'));
  dirs.push(outDir);
  const telemetry = await startTelemetry(
    {
      outDir,
      runId: 'same0001',
      systemMetricsInterval: 0,
      installExitHandlers: false,
      flushInterval: 0.01,
      ...(rotate ? { metricsRotateBytes: 8000, metricsRotateGzip: true } : {}),
    },
    { env: {}, info: () => undefined },
  );
  const segments = (): number =>
    fs.readdirSync(path.join(outDir, '.codex')).filter((name) => /\.\d+\.ndjson(\.gz)?$/.test(name)).length;
  for (let step = 0; step < 2000; step++) {
    telemetry.log({ loss: 1 / (step + 1), acc: step / 2000 }, { step });
    if (step % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 3));
    // Under load one rotation (and its gzip) can outlast the loop: wait for a segment every 500 steps.
    if (rotate && step % 500 === 499) {
      const before = segments();
      await telemetry.flush();
      for (const until = Date.now() + 5000; segments() === before && Date.now() < until;)
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  await telemetry.shutdown();
  return path.join(outDir, '.codex');
}

describe('summarize over a rotated stream', () => {
  it('gives exactly the figures of the same stream unrotated, gzip segments included', async () => {
    const rotated = await stream(true);
    expect(
      fs.readdirSync(rotated).filter((name) => name.endsWith('.ndjson.gz')).length,
    ).toBeGreaterThanOrEqual(2);
    const plain = await runSummarize([await stream(false), '--format', 'json']);
    const segmented = await runSummarize([rotated, '--format', 'json']);
    expect(segmented.code).toBe(0);
    type Summary = { lines: number; phases: Array<{ phase: string; rows: Array<{ name: string }> }> };
    const a = JSON.parse(plain.stdout) as Summary;
    const b = JSON.parse(segmented.stdout) as Summary;
    expect(b.phases).toEqual(a.phases);
    expect(b.lines).toBe(a.lines);
    expect(
      b.phases
        .find((p) => p.phase === 'train')
        ?.rows.map((r) => r.name)
        .sort(),
    ).toEqual(['acc', 'loss']);
  });
});
