import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppendFile } from '../../../src/exporters/file/append-file.js';
import { SinkHealth } from '../../../src/health.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-append-'));
  dirs.push(dir);
  return dir;
}

describe('AppendFile', () => {
  it('writes appended records in order, whole, and appends to an existing file', async () => {
    const file = path.join(tmpDir(), 'sub/dir/out.log');
    const health = new SinkHealth(() => undefined);
    const first = new AppendFile({
      path: file,
      sink: 'test',
      health,
      highWaterBytes: 64,
    });
    for (let i = 0; i < 1000; i++) first.append(i % 2 ? `line ${i}\n` : Buffer.from(`line ${i}\n`));
    await first.close();
    const second = new AppendFile({ path: file, sink: 'test', health });
    second.append('after\n');
    await second.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines.slice(0, 1000)).toEqual(Array.from({ length: 1000 }, (_, i) => `line ${i}`));
    expect(lines[1000]).toBe('after');
  });

  it('writes a header only into a new, empty file', async () => {
    const file = path.join(tmpDir(), 'h.bin');
    const health = new SinkHealth(() => undefined);
    for (let round = 0; round < 2; round++) {
      const out = new AppendFile({
        path: file,
        sink: 'test',
        health,
        header: Buffer.from('HDR'),
      });
      out.append('x');
      await out.close();
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('HDRxx');
  });

  it('flushSync at exit rewrites an in-flight write at its own offset, then the queue, without duplication', async () => {
    const file = path.join(tmpDir(), 'sync.log');
    const out = new AppendFile({
      path: file,
      sink: 'test',
      health: new SinkHealth(() => undefined),
    });
    out.append('a'.repeat(1000) + '\n');
    const writing = out.flush(); // starts an async write
    out.append('b'.repeat(10) + '\n'); // queued behind it
    out.flushSync();
    await writing;
    expect(fs.readFileSync(file, 'utf8')).toBe(`${'a'.repeat(1000)}\n${'b'.repeat(10)}\n`);
    await out.close();
  });

  it('marks the sink down once when its directory is removed mid-run, instead of writing into a deleted file', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'run/out.log');
    const warnings: string[] = [];
    const health = new SinkHealth((message) => warnings.push(message));
    const out = new AppendFile({ path: file, sink: 'removed', health });
    out.append('before\n');
    await out.flush();
    fs.rmSync(path.join(dir, 'run'), { recursive: true });
    const deadline = Date.now() + 5000;
    // Flushes, as the pipeline's clock would run them, notice the removal within the check interval.
    while (health.isUp('removed') && Date.now() < deadline) {
      out.append('during\n');
      await out.flush();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(health.isUp('removed')).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('removed');
    out.append('after\n'); // a no-op now, never a throw
    await out.close();
    expect(out.dropped).toBeGreaterThan(0);
  });
});
