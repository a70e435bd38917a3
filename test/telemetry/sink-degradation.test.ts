import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startWithExportedHealth, type ExportedHealth } from '../helpers/exported-sink-up.js';
import { readLines } from '../helpers/ndjson-lines.js';

const dirs: string[] = [];
const started: ExportedHealth[] = [];
afterEach(async () => {
  for (const run of started.splice(0)) await run.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-degrade-'));
  dirs.push(dir);
  return dir;
}

describe('an unwritable metrics stream', () => {
  it('under a regular file warns once, reports the sink down, and training keeps logging', async () => {
    const outDir = tmpDir();
    const blocker = path.join(outDir, 'not-a-dir');
    fs.writeFileSync(blocker, 'x');
    const warnings: string[] = [];
    const run = await startWithExportedHealth(
      {
        outDir,
        metricsOut: path.join(blocker, 'metrics.ndjson'),
        systemMetricsInterval: 0,
        installExitHandlers: false,
      },
      { warn: (message) => warnings.push(message) },
    );
    started.push(run);
    const telemetry = run.telemetry;
    const evaluation = telemetry.evaluation({ metricsFilename: 'eval.ndjson' });
    for (let step = 0; step < 1000; step++) {
      expect(telemetry.log({ loss: step }, { step })).toBe(true);
      if (step % 100 === 0) evaluation.log({ accuracy: step }, { step });
    }
    await telemetry.flush();
    // What dashboards see: the dead stream exported as 0, the live one as 1, on /metrics and OTLP.
    const exported = { ndjson: 0, ndjson_eval: 1, prometheus: 1, otlp: 1 };
    expect(await run.scrape()).toEqual(exported);
    await run.close();
    expect(run.lastPushed()).toEqual(exported);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('ndjson sink disabled');
    expect(warnings[0]).toMatch(/EEXIST|ENOTDIR/);
    expect(warnings[0]).toContain('metrics.ndjson');
    expect(telemetry.health.isUp('ndjson')).toBe(false);
    // The other stream is unaffected.
    expect(telemetry.health.isUp('ndjson_eval')).toBe(true);
    expect(readLines(path.join(outDir, 'eval.ndjson'))).toHaveLength(10);
  });

  it('on a full device (/dev/full) fails at the first write, warns once, and shutdown completes', async () => {
    const outDir = tmpDir();
    const warnings: string[] = [];
    const run = await startWithExportedHealth(
      {
        outDir,
        metricsOut: '/dev/full',
        systemMetricsInterval: 0,
        installExitHandlers: false,
        flushInterval: 0.01,
      },
      { warn: (message) => warnings.push(message) },
    );
    started.push(run);
    const telemetry = run.telemetry;
    for (let step = 0; step < 200; step++) {
      telemetry.log({ loss: step }, { step });
      if (step % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await telemetry.flush();
    const exported = { ndjson: 0, prometheus: 1, otlp: 1 };
    expect(await run.scrape()).toEqual(exported);
    await run.close();
    expect(run.lastPushed()).toEqual(exported);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('ENOSPC');
    expect(telemetry.health.entries()).toContainEqual(['ndjson', false]);
  });
});
