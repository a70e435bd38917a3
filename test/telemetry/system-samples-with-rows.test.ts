/**
 * A training thread that logs receives the system samples waiting for it with its rows, without a
 * timer wake of the sampler's own: log(), evaluation rows and the bridge's replayed rows take them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { startTelemetry, type Telemetry } from '../../src/index.js';

const opened: Telemetry[] = [];

afterEach(async () => {
  for (const telemetry of opened.splice(0)) await telemetry.shutdown();
});

/** Blocks this thread without yielding, as a training step does: no timer can run meanwhile. */
function trainingStep(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

async function started(): Promise<Telemetry> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-system-rows-'));
  const telemetry = await startTelemetry({ outDir, systemMetricsInterval: 0.02, installExitHandlers: false });
  opened.push(telemetry);
  while (telemetry.systemSampler?.latest() === undefined)
    await new Promise((resolve) => setTimeout(resolve, 5));
  return telemetry;
}

test.each([
  ['log()', (telemetry: Telemetry) => telemetry.log({ loss: 1 })],
  ['an evaluation row', (telemetry: Telemetry) => telemetry.evaluation().log({ loss: 1 }, { step: 0 })],
  [
    "the bridge's replayed row",
    (telemetry: Telemetry) =>
      telemetry.ingest({ phase: 'train', step: 0, ts: Date.now() / 1000, names: ['loss'], values: [1] }),
  ],
])('%s receives the system samples taken while the training step ran', async (_, row) => {
  const telemetry = await started();
  const sampler = telemetry.systemSampler!;
  trainingStep(300);
  const before = sampler.latest()!.seq;
  row(telemetry);
  // Sampling every 20 ms for 300 ms: several samples waited, and all came in with the row.
  expect(sampler.latest()!.seq).toBeGreaterThanOrEqual(before + 3);
});
