import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StepOrderBuffer } from '../../src/bridge/step-order.js';
import { TailBridge } from '../../src/bridge/tail-bridge.js';
import { startTelemetry } from '../../src/telemetry.js';
import { readLines } from '../helpers/ndjson-lines.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('rows of several files reach the sinks in step order', () => {
  it('an eval row read before the train rows written ahead of it waits for them (the W&B history kept every step)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-step-order-'));
    dirs.push(dir);
    const train = path.join(dir, 'metrics.ndjson');
    const evaluation = path.join(dir, 'eval_metrics.ndjson');
    const trainLines = (from: number, to: number): string =>
      Array.from(
        { length: to - from },
        (_, i) => `{"step": ${from + i}, "loss": ${(from + i) / 100}}\n`,
      ).join('');
    fs.writeFileSync(train, trainLines(0, 98));
    // The trainer wrote train steps 98-100 and then the eval at step 100, but the bridge read the
    // train file before 98 landed and the eval file after: the eval row is read one poll early.
    fs.writeFileSync(evaluation, '{"step": 100, "acc": 0.5, "phase": "eval"}\n');
    const telemetry = await startTelemetry(
      { outDir: dir, metricsOut: 'replayed.ndjson', systemMetricsInterval: 0, installExitHandlers: false },
      { env: {}, ndjsonPhases: ['train', 'eval'] },
    );
    const bridge = new TailBridge({
      files: [train, evaluation],
      fromStart: true,
      telemetry,
      warn: () => undefined,
    });
    await bridge.pollOnce();
    fs.appendFileSync(train, trainLines(98, 102));
    await bridge.pollOnce();
    await bridge.drain();
    await telemetry.shutdown();
    const order = readLines(path.join(dir, 'replayed.ndjson')).map(
      (l) => `${String(l.tags?.phase)}@${l.step}`,
    );
    expect(order.filter((o) => o.startsWith('train@'))).toEqual(
      Array.from({ length: 102 }, (_, i) => `train@${i}`),
    );
    // The eval row comes after train steps 98-100 (same step: read order), before 101.
    expect(order.slice(98, 104)).toEqual(['train@98', 'train@99', 'train@100', 'eval@100', 'train@101']);
  });

  it('merges files by step but keeps each file in its own order, so a resumed run going back in steps stays as written', () => {
    const out: string[] = [];
    const buffer = new StepOrderBuffer<{ step: number; id: string }>(2, (row) => out.push(row.id));
    for (const step of [10, 11, 12, 5, 6]) buffer.add(0, { step, id: `t${step}` });
    buffer.add(1, { step: 4, id: 'e4' });
    buffer.endPoll(); // nothing held before this poll: everything waits one poll
    expect(out).toEqual([]);
    buffer.add(1, { step: 13, id: 'e13' });
    buffer.endPoll(); // watermark 12: e13 waits
    expect(out).toEqual(['e4', 't10', 't11', 't12', 't5', 't6']);
    buffer.releaseAll();
    expect(out.at(-1)).toBe('e13');
  });

  it('passes rows of a single file straight through, in file order', () => {
    const out: number[] = [];
    const buffer = new StepOrderBuffer<{ step: number }>(1, (row) => out.push(row.step));
    for (const step of [3, 1, 2]) buffer.add(0, { step });
    expect(out).toEqual([3, 1, 2]);
  });

  it('releases a backlog read in one poll once it holds more than its bound, in step order', async () => {
    const { HOLD_MAX_ROWS } = await import('../../src/bridge/step-order.js');
    const out: number[] = [];
    const buffer = new StepOrderBuffer<{ step: number }>(2, (row) => out.push(row.step));
    for (let step = 0; step <= HOLD_MAX_ROWS; step++) buffer.add(step % 2, { step });
    expect(out).toHaveLength(HOLD_MAX_ROWS + 1);
    expect(out.every((step, i) => step === i)).toBe(true);
  });
});
