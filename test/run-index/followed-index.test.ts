/**
 * The bridge keeps the run index of the streams it tails (src/run-index/followed-index.ts): after
 * `codex-telemetry tail` or `run` over a trainer-written stream, a reader finds an index equal to a
 * full scan and reads no stream byte; rotation, truncation and a torn last line leave it correct;
 * an index a live writer keeps is left alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TailBridge } from '../../src/bridge/tail-bridge.js';
import { parseCli } from '../../src/cli/parse-cli.js';
import { runTail } from '../../src/cli/tail-command.js';
import { listSegments, segmentPath } from '../../src/ndjson/segments.js';
import { decodeIndex } from '../../src/run-index/index-codec.js';
import { rewriteIndex } from '../../src/run-index/index-file.js';
import { besidePath } from '../../src/run-index/index-path.js';
import { loadStreamIndex } from '../../src/run-index/stream-index.js';
import { startTelemetry } from '../../src/telemetry.js';
import { captureIo } from '../helpers/capture-io.js';
import { expectSameAsFullScan } from './index-check.js';
import { appendStream, streamLines, writeStream } from './make-stream.js';

const CLI = path.resolve('dist/src/cli/codex-telemetry.js');
let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'followed-index-'));
  env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What a reader finds: the index is whole (nothing read from the stream) and equals a full scan. */
async function expectWholeIndex(stream: string): Promise<void> {
  const index = await loadStreamIndex(stream, { env, write: false });
  expect({ stream, reused: index.reused, scanned: index.scanned }).toEqual({
    stream,
    reused: true,
    scanned: 0,
  });
  await expectSameAsFullScan(index, stream);
}

async function tail(files: string[]) {
  const parsed = parseCli([
    'tail',
    '--from-start',
    '--no-prometheus',
    '--out',
    path.join(dir, 'replay'),
    ...files,
  ]);
  if (parsed.command !== 'tail') throw new Error(`not a tail command: ${JSON.stringify(parsed)}`);
  const captured = captureIo({ ...env, CODEX_SYSTEM_METRICS_INTERVAL: '0' });
  const code = await runTail(parsed.options, parsed.files, captured.io);
  return { code, ...captured };
}

async function bridge(files: string[]) {
  const warnings: string[] = [];
  const telemetry = await startTelemetry(
    {
      outDir: path.join(dir, 'out'),
      systemMetricsInterval: 0,
      installExitHandlers: false,
      flushInterval: 0.01,
    },
    { env: {}, ndjsonPhases: ['train', 'eval'] },
  );
  const tailBridge = new TailBridge({
    files,
    fromStart: false,
    telemetry,
    warn: (w) => warnings.push(w),
    env,
  });
  return { telemetry, bridge: tailBridge, warnings };
}

describe('the bridge keeps the run index of the streams it tails', () => {
  it('after `codex-telemetry tail` over a trainer-written stream, the index exists beside it and equals a full scan', async () => {
    const stream = path.join(dir, 'metrics.ndjson');
    // A trainer's own lines: schema rows, plain rows, non-finite values, a malformed line, and a
    // last line without its newline.
    fs.writeFileSync(
      stream,
      streamLines(0, 3000) +
        '{"step": 3000, "loss": NaN, "lr": 0.1}\n' +
        'not json\n' +
        '{"step": 3001, "loss": Infinity}\n' +
        '{"step": 3002, "loss": 0.5}',
    );
    const result = await tail([stream]);
    expect(result.code, result.stderr()).toBe(0);
    expect(fs.existsSync(besidePath(stream))).toBe(true);
    await expectWholeIndex(stream);
  });

  it("after `codex-telemetry run`, the trainer's stream has an index equal to a full scan", async () => {
    const out = path.join(dir, 'run');
    const trainer = `
      const fs = await import('node:fs');
      for (let step = 0; step < 2000; step++) {
        fs.appendFileSync(process.env.CODEX_METRICS_OUT, JSON.stringify({ step, loss: 1 / (step + 1), lr: 0.1 }) + '\\n');
        if (step % 500 === 0) await new Promise((r) => setTimeout(r, 150));
      }`;
    const result = spawnSync(
      process.execPath,
      [
        CLI,
        'run',
        '--out',
        out,
        '--no-prometheus',
        '--no-tensorboard',
        '--no-wandb',
        '--',
        process.execPath,
        '--input-type=module',
        '-e',
        trainer,
      ],
      { encoding: 'utf8', timeout: 120_000, env: { ...env, CODEX_SYSTEM_METRICS_INTERVAL: '0' } },
    );
    expect(result.status, result.stderr).toBe(0);
    // Where `run` tells the trainer to write (CODEX_METRICS_OUT).
    const stream = path.join(out, '.codex', 'metrics.ndjson');
    expect(fs.statSync(stream).size).toBeGreaterThan(0);
    expect(fs.existsSync(besidePath(stream))).toBe(true);
    await expectWholeIndex(stream);
  });

  it('stays equal to a full scan across rotation, truncation and a line written in two parts', async () => {
    const stream = path.join(dir, 'metrics.ndjson');
    const { telemetry, bridge: b, warnings } = await bridge([stream]);
    writeStream(stream, 0, 1500);
    await b.pollOnce();
    // A line cut mid-write is left for the next poll.
    const next = streamLines(1500, 1501);
    fs.appendFileSync(stream, next.slice(0, 40));
    await b.pollOnce();
    fs.appendFileSync(stream, next.slice(40));
    appendStream(stream, 1501, 2500);
    await b.pollOnce();
    // Rotated by rename, then the new file written.
    fs.renameSync(stream, segmentPath(stream, 1));
    writeStream(stream, 2500, 4000);
    await b.pollOnce();
    // Truncated and rewritten with other rows, already longer than what was indexed when the
    // next poll comes (copytruncate-style rotation).
    fs.truncateSync(stream, 0);
    writeStream(stream, 4000, 6000, 'run-a', 7);
    await b.pollOnce();
    appendStream(stream, 6000, 6500, 'run-a', 7);
    await b.drain();
    await telemetry.shutdown();
    expect(warnings.filter((w) => w.includes('run index'))).toEqual([]);
    expect(listSegments(stream).map((s) => path.basename(s.path))).toEqual(['metrics.000001.ndjson']);
    await expectWholeIndex(segmentPath(stream, 1));
    await expectWholeIndex(stream);
  });

  it('a reader in the same process (the dashboard inside `tail`) no longer appends to the index the bridge is writing', async () => {
    const stream = path.join(dir, 'metrics.ndjson');
    const { telemetry, bridge: b } = await bridge([stream]);
    writeStream(stream, 0, 2000);
    await b.pollOnce();
    appendStream(stream, 2000, 2500);
    const before = fs.readFileSync(besidePath(stream));
    const read = await loadStreamIndex(stream, { env });
    expect(read.reused).toBe(true);
    expect(fs.readFileSync(besidePath(stream)).equals(before)).toBe(true);
    await expectSameAsFullScan(read, stream);
    await b.drain();
    await telemetry.shutdown();
    await expectWholeIndex(stream);
  });

  it('leaves alone an index whose writer is alive, and takes it over once that writer is gone', async () => {
    const stream = path.join(dir, 'metrics.ndjson');
    writeStream(stream, 0, 2000);
    const built = await loadStreamIndex(stream, { env });
    const writer = spawn('sleep', ['60']);
    const gone = new Promise((resolve) => writer.on('exit', resolve));
    try {
      const decoded = decodeIndex(fs.readFileSync(built.path as string));
      rewriteIndex(
        built.path as string,
        { ...(decoded.header as NonNullable<typeof decoded.header>), pid: writer.pid as number },
        decoded.blocks,
      );
      appendStream(stream, 2000, 3000);
      const before = fs.readFileSync(besidePath(stream));
      const first = await tail([stream]);
      expect(first.code, first.stderr()).toBe(0);
      expect(fs.readFileSync(besidePath(stream)).equals(before)).toBe(true);
    } finally {
      writer.kill('SIGKILL');
      await gone;
    }
    fs.rmSync(path.join(dir, 'replay'), { recursive: true, force: true });
    const second = await tail([stream]);
    expect(second.code, second.stderr()).toBe(0);
    expect(decodeIndex(fs.readFileSync(besidePath(stream))).header?.pid).toBe(process.pid);
    await expectWholeIndex(stream);
  });

  it('takes over an index a reader built, under its own pid, going on from its last block', async () => {
    const stream = path.join(dir, 'metrics.ndjson');
    writeStream(stream, 0, 2000);
    await loadStreamIndex(stream, { env });
    const blocksBefore = decodeIndex(fs.readFileSync(besidePath(stream))).blocks.length;
    appendStream(stream, 2000, 4000);
    const result = await tail([stream]);
    expect(result.code, result.stderr()).toBe(0);
    const decoded = decodeIndex(fs.readFileSync(besidePath(stream)));
    expect(decoded.header?.pid).toBe(process.pid);
    expect(decoded.blocks.length).toBeGreaterThan(blocksBefore);
    await expectWholeIndex(stream);
  });
});
