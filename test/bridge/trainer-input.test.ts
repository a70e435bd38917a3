/** What trainers really write, read by the bridge without losing a line quietly. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRecordLine, quotePythonTokens } from '../../src/ndjson/line/parse-record.js';
import { planStreams } from '../../src/ndjson/stream-files.js';
import { TailBridge } from '../../src/bridge/tail-bridge.js';
import { startTelemetry } from '../../src/telemetry.js';
import { readLines } from '../helpers/ndjson-lines.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-input-'));
  dirs.push(dir);
  return dir;
}

async function replay(dir: string, files: string[], fromStart = true) {
  const warnings: string[] = [];
  const info: string[] = [];
  const telemetry = await startTelemetry(
    { outDir: dir, metricsOut: 'replayed.ndjson', systemMetricsInterval: 0, installExitHandlers: false },
    { env: {}, ndjsonPhases: ['train', 'eval'] },
  );
  const bridge = new TailBridge({
    files,
    fromStart,
    telemetry,
    warn: (w) => warnings.push(w),
    info: (i) => info.push(i),
    pollMs: 5,
  });
  return { telemetry, bridge, warnings, info, replayed: path.join(dir, 'replayed.ndjson') };
}

describe("Python's non-finite tokens", () => {
  it('keep the other metrics of a plain row holding a bare NaN, Infinity or -Infinity', () => {
    const parsed = parseRecordLine('{"step": 3, "loss": NaN, "lr": 0.1, "grad": Infinity, "m": -Infinity}');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.row.names).toEqual(['loss', 'lr', 'grad', 'm']);
    expect(parsed.row.values).toEqual([NaN, 0.1, Infinity, -Infinity]);
  });

  it('are read in schema rows and system snapshots too', () => {
    const scalar = parseRecordLine('{"v":1,"step":2,"name":"loss","value":NaN,"tags":{"phase":"train"}}');
    expect(scalar.ok && scalar.row.values).toEqual([NaN]);
    const snapshot = parseRecordLine('{"v":1,"step":2,"name":"system","values":{"a":Infinity,"b":1}}');
    expect(snapshot.ok && snapshot.row.values).toEqual([Infinity, 1]);
  });

  it('are left alone inside strings, and a broken line keeps its JSON message', () => {
    expect(quotePythonTokens('{"name":"NaN Infinity","value":1}')).toBeUndefined();
    expect(quotePythonTokens('{"a":"x\\"NaN","b":NaN}')).toBe('{"a":"x\\"NaN","b":"NaN"}');
    const broken = parseRecordLine('{"step": 1, "loss": ');
    expect(broken.ok).toBe(false);
  });

  it('reach the replayed stream as non-finite values, not as dropped lines', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'train.ndjson');
    fs.writeFileSync(file, '{"step": 0, "loss": 1.5, "lr": 0.1}\n{"step": 1, "loss": NaN, "lr": 0.1}\n');
    const { telemetry, bridge, replayed } = await replay(dir, [file]);
    await bridge.drain();
    await telemetry.shutdown();
    expect(bridge.stats).toMatchObject({ rows: 2, malformed: 0 });
    const losses = readLines(replayed).filter((l) => l.name === 'loss');
    expect(losses.map((l) => l.value)).toEqual([1.5, NaN]);
  });
});

describe('the last line of a finished trainer', () => {
  it('is read when it has no newline', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'train.ndjson');
    fs.writeFileSync(file, '{"step": 0, "loss": 1}\n{"step": 1, "loss": 0.5}');
    const { telemetry, bridge, replayed } = await replay(dir, [file]);
    await bridge.drain();
    await telemetry.shutdown();
    expect(bridge.stats).toMatchObject({ rows: 2, malformed: 0 });
    expect(
      readLines(replayed)
        .filter((l) => l.name === 'loss')
        .map((l) => l.step),
    ).toEqual([0, 1]);
  });

  it('is reported as unfinished, with file and line, when it was cut mid-write', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'train.ndjson');
    fs.writeFileSync(file, '{"step": 0, "loss": 1}\n{"step": 1, "lo');
    const { telemetry, bridge, warnings } = await replay(dir, [file]);
    await bridge.drain();
    await telemetry.shutdown();
    expect(bridge.stats).toMatchObject({ rows: 1, malformed: 1 });
    expect(warnings.join('\n')).toContain(`${file}:2`);
    expect(warnings.join('\n')).toContain('unfinished last line');
  });
});

describe('a stream named several times', () => {
  it('is read once when given twice, through a link, or as segments beside the active file', () => {
    const dir = tmpDir();
    const active = path.join(dir, 'metrics.ndjson');
    const segment = path.join(dir, 'metrics.000001.ndjson');
    fs.writeFileSync(segment, '{"step": 0, "loss": 1}\n');
    fs.writeFileSync(active, '{"step": 1, "loss": 1}\n');
    fs.symlinkSync(active, path.join(dir, 'link.ndjson'));
    const plan = planStreams([segment, active, active, path.join(dir, 'link.ndjson')]);
    expect(plan.files).toEqual([active]);
    expect(plan.skipped.map((s) => s.reason)).toEqual([
      'given more than once',
      `the same file as ${active}`,
      `a closed segment of ${active}, read with it`,
    ]);
  });

  it('replays each row of a rotated stream once (segments first, then the active file)', async () => {
    const dir = tmpDir();
    const active = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(
      path.join(dir, 'metrics.000001.ndjson'),
      '{"step": 0, "loss": 1}\n{"step": 1, "loss": 2}\n',
    );
    fs.writeFileSync(active, '{"step": 2, "loss": 3}\n');
    const plan = planStreams([path.join(dir, 'metrics.000001.ndjson'), active]);
    const { telemetry, bridge, replayed } = await replay(dir, plan.files);
    await bridge.drain();
    await telemetry.shutdown();
    expect(
      readLines(replayed)
        .filter((l) => l.name === 'loss')
        .map((l) => l.step),
    ).toEqual([0, 1, 2]);
  });
});

describe('--follow on a file that is not there yet', () => {
  it('says once that it is waiting for it', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'later.ndjson');
    const { telemetry, bridge, info } = await replay(dir, [file], false);
    for (let i = 0; i < 5; i++) await bridge.pollOnce();
    fs.writeFileSync(file, '{"step": 0, "loss": 1}\n');
    await bridge.pollOnce();
    await bridge.drain();
    await telemetry.shutdown();
    expect(info).toEqual([`codex-telemetry: waiting for ${file} to appear`]);
    expect(bridge.stats.rows).toBe(1);
  });
});
