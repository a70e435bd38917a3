import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TailBridge } from '../../src/bridge/tail-bridge.js';
import { startTelemetry } from '../../src/telemetry.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the tail bridge default step', () => {
  it('carries past 2^53 - 1 for lines without a step, and refuses lines past the int64 maximum', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-bridge-carry-'));
    dirs.push(dir);
    const input = path.join(dir, 'train.ndjson');
    fs.writeFileSync(
      input,
      [
        `{"step": ${Number.MAX_SAFE_INTEGER}, "loss": 1}`,
        '{"loss": 2}',
        '{"loss": 3}',
        `{"step": ${2n ** 63n - 1n}, "loss": 4}`,
        '{"loss": 5}',
        '',
      ].join('\n'),
    );
    const telemetry = await startTelemetry(
      { outDir: dir, metricsOut: 'replayed.ndjson', systemMetricsInterval: 0, installExitHandlers: false },
      { env: {}, ndjsonPhases: ['train'], warn: () => undefined },
    );
    const bridge = new TailBridge({ files: [input], fromStart: true, telemetry, warn: () => undefined });
    await bridge.drain();
    await telemetry.shutdown();
    expect(bridge.stats.rows).toBe(4);
    const steps = fs
      .readFileSync(path.join(dir, 'replayed.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => /"step":(\d+)/.exec(line)?.[1]);
    expect(steps).toEqual([
      String(Number.MAX_SAFE_INTEGER),
      String(2n ** 53n),
      String(2n ** 53n + 1n),
      String(2n ** 63n - 1n),
    ]);
  });
});
