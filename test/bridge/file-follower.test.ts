import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileFollower } from '../../src/bridge/file-follower.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const lines = (from: number, count: number): string =>
  Array.from({ length: count }, (_, i) => `{"step": ${from + i}, "loss": ${((from + i) % 97) / 10}}\n`).join(
    '',
  );

describe('FileFollower', () => {
  it('drops what it read of a file truncated and rewritten in the middle of its read, and reads the new content from its start', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-follower-'));
    dirs.push(dir);
    const file = path.join(dir, 'metrics.ndjson');
    // More than one 1 MiB read: the rewrite lands between the first read and the second.
    fs.writeFileSync(file, lines(0, 60_000));
    const rewritten = lines(1_000_000, 60_000);
    const seen: string[] = [];
    const resets: string[] = [];
    const follower = new FileFollower({
      path: file,
      fromStart: true,
      onLines: (batch) => {
        if (seen.length === 0) fs.writeFileSync(file, rewritten); // truncate and rewrite, copytruncate-style
        for (const line of batch.lines) seen.push(line.toString('utf8'));
      },
      onReset: (event) => resets.push(event.kind),
    });
    while ((await follower.poll()) > 0);
    await follower.close();
    expect(resets).toEqual(['truncated']);
    // Every line handed on is whole (a half line would throw here); the old file's first read, then
    // all of the new file, once.
    const steps = seen.map((line) => (JSON.parse(line) as { step: number }).step);
    const firstNew = steps.indexOf(1_000_000);
    expect(steps.slice(0, firstNew)).toEqual(Array.from({ length: firstNew }, (_, i) => i));
    expect(steps.slice(firstNew)).toEqual(Array.from({ length: 60_000 }, (_, i) => 1_000_000 + i));
  });
});
