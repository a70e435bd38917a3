import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TailBridge } from '../../src/bridge/tail-bridge.js';
import { startTelemetry } from '../../src/telemetry.js';
import { readLines } from '../helpers/ndjson-lines.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-tail-'));
  dirs.push(dir);
  return dir;
}
const line = (step: number): string => `{"step": ${step}, "loss": ${step / 10}}\n`;
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function bridgeInto(dir: string, files: string[], fromStart: boolean) {
  const warnings: string[] = [];
  const telemetry = await startTelemetry(
    {
      outDir: dir,
      metricsOut: 'replayed.ndjson',
      systemMetricsInterval: 0,
      installExitHandlers: false,
      flushInterval: 0.01,
    },
    { env: {}, ndjsonPhases: ['train', 'eval'] },
  );
  const bridge = new TailBridge({ files, fromStart, telemetry, warn: (w) => warnings.push(w), pollMs: 5 });
  return { telemetry, bridge, warnings, replayed: path.join(dir, 'replayed.ndjson') };
}

describe('tail bridge', () => {
  it('follows a file that does not exist yet through appends, partial lines, truncation and rotation, losing and duplicating nothing', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'train.ndjson');
    const { telemetry, bridge, warnings, replayed } = await bridgeInto(dir, [file], false);
    const controller = new AbortController();
    const following = bridge.follow(controller.signal);

    await new Promise((resolve) => setTimeout(resolve, 30)); // the file does not exist yet
    for (let step = 0; step < 100; step++) fs.appendFileSync(file, line(step));
    // A line written in two parts is read once, whole.
    fs.appendFileSync(file, '{"step": 100, "lo');
    await new Promise((resolve) => setTimeout(resolve, 30));
    fs.appendFileSync(file, 'ss": 10}\n');
    await until(() => bridge.stats.rows === 101, 'the first 101 rows');

    fs.truncateSync(file, 0); // copytruncate-style rotation
    for (let step = 101; step < 200; step++) fs.appendFileSync(file, line(step));
    await until(() => bridge.stats.rows === 200, 'rows after truncation');

    // Rename-style rotation: lines appended just before the rename must still be read from the old file.
    for (let step = 200; step < 250; step++) fs.appendFileSync(file, line(step));
    fs.renameSync(file, `${file}.1`);
    for (let step = 250; step < 300; step++) fs.appendFileSync(file, line(step));
    await until(() => bridge.stats.rows === 300, 'rows after rotation');

    controller.abort();
    await following;
    await telemetry.shutdown();
    const steps = readLines(replayed).map((parsed) => parsed.step);
    expect(steps).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(bridge.stats.resets).toBe(2);
    expect(warnings.some((w) => w.includes('truncated'))).toBe(true);
    expect(warnings.some((w) => w.includes('rotated'))).toBe(true);
  });

  it('replays schema v1 lines with their own steps and timestamps, one row per (phase, step)', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'metrics.ndjson');
    const lines = [];
    for (let step = 0; step < 50; step++) {
      for (const name of ['loss', 'lr']) {
        lines.push(
          JSON.stringify({
            v: 1,
            ts: 1_700_000_000 + step,
            run_id: 'py',
            step,
            name,
            value: step,
            tags: { phase: 'train' },
          }),
        );
      }
    }
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const { telemetry, bridge, replayed } = await bridgeInto(dir, [file], true);
    await bridge.drain();
    await telemetry.shutdown();
    expect(bridge.stats.rows).toBe(50);
    const out = readLines(replayed);
    expect(out).toHaveLength(100);
    expect(out[2]).toMatchObject({ step: 1, name: 'loss', value: 1, ts: 1_700_000_001 });
  });

  it('counts malformed lines, reports the first with file:line and field, and keeps going', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'bad.ndjson');
    fs.writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('{"step": 0, "loss": 1}\nnot json\n{"step": "x", "loss": 2}\n'),
        Buffer.from([0xff, 0xfe, 0x0a]),
        Buffer.from('{"step": 4, "loss": 4}\n{"step": 5, "loss"'),
      ]),
    );
    const { telemetry, bridge, warnings, replayed } = await bridgeInto(dir, [file], true);
    await bridge.drain();
    await telemetry.shutdown();
    expect(bridge.stats.malformed).toBe(4);
    expect(warnings[0]).toContain(`${file}:2`);
    expect(warnings[1]).toContain(`${file}:3: field "step"`);
    expect(warnings[2]).toContain('invalid UTF-8');
    expect(warnings[3]).toContain('unfinished last line');
    expect(readLines(replayed).map((parsed) => parsed.step)).toEqual([0, 4]);
  });
});

describe('tail --from-start over a rotated stream', () => {
  it('replays the closed segments (gzip included) in order, then the active file, as one stream', async () => {
    const dir = tmpDir();
    const writer = await startTelemetry(
      {
        outDir: dir,
        systemMetricsInterval: 0,
        installExitHandlers: false,
        flushInterval: 0.01,
        metricsRotateBytes: 6000,
        metricsRotateGzip: true,
      },
      { env: {}, info: () => undefined },
    );
    for (let step = 0; step < 1000; step++) {
      writer.log({ loss: step }, { step });
      if (step % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 3));
    }
    await writer.shutdown();
    const active = path.join(dir, '.codex/metrics.ndjson');
    expect(
      fs.readdirSync(path.dirname(active)).filter((name) => name.endsWith('.ndjson.gz')).length,
    ).toBeGreaterThanOrEqual(2);
    const out = tmpDir();
    const { telemetry, bridge, replayed } = await bridgeInto(out, [active], true);
    await bridge.drain();
    await telemetry.shutdown();
    expect(bridge.stats.malformed).toBe(0);
    expect(readLines(replayed).map((parsed) => parsed.step)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });
});
