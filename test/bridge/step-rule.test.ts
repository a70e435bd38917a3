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

async function replay(lines: string[]): Promise<{ warnings: string[]; input: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-step-rule-'));
  dirs.push(dir);
  const input = path.join(dir, 'train.ndjson');
  fs.writeFileSync(input, `${lines.join('\n')}\n`);
  const telemetry = await startTelemetry(
    { outDir: dir, metricsOut: 'replayed.ndjson', systemMetricsInterval: 0, installExitHandlers: false },
    { env: {}, ndjsonPhases: ['train'], warn: () => undefined },
  );
  const warnings: string[] = [];
  const bridge = new TailBridge({
    files: [input],
    fromStart: true,
    telemetry,
    warn: (w) => warnings.push(w),
  });
  await bridge.drain();
  await telemetry.shutdown();
  return { warnings, input };
}

describe('rows without a step and negative steps', () => {
  it('warns once, naming the first such line, that a row without "step" takes the previous step + 1 and may collide', async () => {
    const { warnings, input } = await replay([
      '{"step": 0, "loss": 3}',
      '{"loss": 2}',
      '{"loss": 1.5}',
      '{"step": 1, "loss": 1}',
    ]);
    const told = warnings.filter((w) => /without "step"/.test(w));
    expect(told).toEqual([
      `codex-telemetry: ${input}:2: a row without "step" takes its phase's previous step + 1 (0 first); a later row's own step may then repeat one, so give every row a step (said once per stream)`,
    ]);
  });

  it('warns once that {"step": -3} is negative instead of accepting it silently', async () => {
    const { warnings, input } = await replay(['{"step": -3, "loss": 1}', '{"step": -2, "loss": 1}']);
    expect(warnings.filter((w) => /negative/.test(w))).toEqual([
      `codex-telemetry: ${input}:1: step -3 is negative; it is kept as written, but W&B's history wants steps from 0 up (said once per stream)`,
    ]);
  });

  it('says nothing for rows that all carry a step of 0 or more', async () => {
    const { warnings } = await replay(['{"step": 0, "loss": 1}', '{"step": 1, "loss": 0.5}']);
    expect(warnings).toEqual([]);
  });
});
