import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { splitLines } from '../../src/ndjson/line/line-splitter.js';
import { segmentPath } from '../../src/ndjson/segments.js';
import { StreamFollower, type StreamFollowerOptions } from '../../src/ndjson/stream-follower.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-follower-'));
  dirs.push(dir);
  return path.join(dir, 'metrics.ndjson');
}

const lines = (from: number, count: number): string =>
  Array.from({ length: count }, (_, i) => `{"step": ${from + i}, "loss": ${((from + i) % 97) / 10}}\n`).join(
    '',
  );

/** A follower that records every line it hands on, as text, with the events around them. */
function recording(file: string, options: Partial<StreamFollowerOptions> = {}) {
  const seen: string[] = [];
  const events: string[] = [];
  const follower = new StreamFollower({
    path: file,
    fromStart: true,
    onLines: ({ buf, end }) => {
      for (const line of splitLines(buf, end)) seen.push(line.toString('latin1'));
    },
    onUnterminated: (read, line) => {
      events.push(`unterminated ${path.basename(read)} ${line.toString('latin1')}`);
    },
    onTooLong: (read, offset, limit) => events.push(`too long ${path.basename(read)}@${offset} > ${limit}`),
    onReset: (event) => events.push(event.kind),
    ...options,
  });
  return { follower, seen, events };
}

const steps = (seen: readonly string[]): number[] =>
  seen.map((line) => (JSON.parse(line) as { step: number }).step);
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

describe('StreamFollower', () => {
  it('closed while a poll is in flight, opens nothing again: no line is read twice', async () => {
    const file = tempFile();
    fs.writeFileSync(file, lines(0, 1000));
    const { follower, seen } = recording(file);
    await follower.poll();
    expect(seen).toHaveLength(1000);
    fs.appendFileSync(file, lines(1000, 10));
    // The poll stops at its first read; the close lands there, as a dashboard's stop does.
    const polling = follower.poll();
    await follower.close();
    await polling;
    expect(await follower.poll()).toBe(0);
    // Taken for a rotated file, the closed one was opened again and read from its start.
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeLessThanOrEqual(1010);
  });

  it('drops what it read of a file truncated and rewritten in the middle of its read, and reads the new content from its start', async () => {
    const file = tempFile();
    // More than one 1 MiB read: the rewrite lands between the first read and the second.
    fs.writeFileSync(file, lines(0, 60_000));
    const rewritten = lines(1_000_000, 60_000);
    const seen: string[] = [];
    const resets: string[] = [];
    const follower = new StreamFollower({
      path: file,
      fromStart: true,
      onLines: ({ buf, end }) => {
        if (seen.length === 0) fs.writeFileSync(file, rewritten); // truncate and rewrite, copytruncate-style
        for (const line of splitLines(buf, end)) seen.push(line.toString('utf8'));
      },
      onReset: (event) => resets.push(event.kind),
    });
    while ((await follower.poll()) > 0);
    await follower.close();
    expect(resets).toEqual(['truncated']);
    // Every line handed on is whole (a half line would throw here); the old file's first read, then
    // all of the new file, once.
    const read = steps(seen);
    const firstNew = read.indexOf(1_000_000);
    expect(read.slice(0, firstNew)).toEqual(range(0, firstNew));
    expect(read.slice(firstNew)).toEqual(range(1_000_000, 60_000));
  });

  it('hands on the same lines however the writer cuts its appends, and an unfinished line only once it ends', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Lines of any bytes but newline and CR (a CR before the newline is not part of the line).
        fc.array(
          fc
            .uint8Array({ maxLength: 40 })
            .map((bytes) => Buffer.from(bytes.filter((b) => b !== 10 && b !== 13))),
          { maxLength: 20 },
        ),
        fc.array(fc.nat({ max: 60 }), { maxLength: 12 }),
        async (lines, cuts) => {
          const file = tempFile();
          const bytes = Buffer.concat([...lines.flatMap((line) => [line, Buffer.from('\n')])]);
          fs.writeFileSync(file, '');
          const { follower, seen } = recording(file);
          let at = 0;
          for (const cut of cuts) {
            const end = Math.min(bytes.length, at + cut);
            fs.appendFileSync(file, bytes.subarray(at, end));
            at = end;
            await follower.poll();
            expect(follower.pendingBytes).toBe(at - (bytes.subarray(0, at).lastIndexOf(10) + 1));
          }
          fs.appendFileSync(file, bytes.subarray(at));
          await follower.poll();
          await follower.finish();
          expect(seen).toEqual(lines.map((line) => line.toString('latin1')));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reports a line longer than the limit once, keeps the lines around it, and never holds it', async () => {
    const file = tempFile();
    const long = `{"step": 1, "blob": "${'x'.repeat(3 << 20)}"}\n`;
    fs.writeFileSync(file, lines(0, 1));
    const { follower, seen, events } = recording(file, { maxLineBytes: 1 << 20 });
    await follower.poll();
    // Appended in pieces, so the long line arrives over several polls as an unfinished line.
    for (let at = 0; at < long.length; at += 700_000) {
      fs.appendFileSync(file, long.slice(at, at + 700_000));
      await follower.poll();
      expect(follower.pendingBytes).toBeLessThanOrEqual(1 << 20);
    }
    fs.appendFileSync(file, lines(2, 1) + long + lines(3, 1));
    await follower.poll();
    await follower.finish();
    expect(steps(seen)).toEqual([0, 2, 3]);
    const firstLong = Buffer.byteLength(lines(0, 1));
    const secondLong = firstLong + long.length + Buffer.byteLength(lines(2, 1));
    expect(events).toEqual([
      `too long metrics.ndjson@${firstLong} > ${1 << 20}`,
      `too long metrics.ndjson@${secondLong} > ${1 << 20}`,
    ]);
  });

  it('reads a stream that never ends a line in bounded memory', async () => {
    const file = tempFile();
    fs.writeFileSync(file, '');
    const { follower, events } = recording(file, { maxLineBytes: 1 << 16 });
    const zeros = Buffer.alloc(1 << 20);
    for (let i = 0; i < 8; i++) {
      fs.appendFileSync(file, zeros);
      await follower.poll();
      expect(follower.pendingBytes).toBeLessThanOrEqual(1 << 16);
    }
    expect(events).toEqual([`too long metrics.ndjson@0 > ${1 << 16}`]);
  });

  it('after a rotation finishes the old file, reads segments closed meanwhile once (gzip too), then the new file', async () => {
    const file = tempFile();
    fs.writeFileSync(file, lines(0, 10));
    const { follower, seen, events } = recording(file);
    await follower.poll();
    // Two rotations between polls: the first segment is the file being followed (read through its
    // descriptor, then gzipped by the writer); the second was never seen as the active file.
    fs.appendFileSync(file, lines(10, 5));
    fs.renameSync(file, segmentPath(file, 1));
    fs.writeFileSync(`${segmentPath(file, 1)}.gz`, zlib.gzipSync(fs.readFileSync(segmentPath(file, 1))));
    fs.rmSync(segmentPath(file, 1));
    fs.writeFileSync(segmentPath(file, 2), lines(15, 5));
    fs.writeFileSync(file, lines(20, 5) + '{"step": 25, "lo');
    await follower.poll();
    expect(steps(seen)).toEqual(range(0, 25));
    expect(events).toEqual(['rotated']);
    fs.appendFileSync(file, 'ss": 1}');
    await follower.poll();
    await follower.finish();
    expect(events).toEqual(['rotated', 'unterminated metrics.ndjson {"step": 25, "loss": 1}']);
  });

  it('from the start, reads closed segments in order before the active file; from the end, only what is appended', async () => {
    const file = tempFile();
    fs.writeFileSync(`${segmentPath(file, 2)}.gz`, zlib.gzipSync(lines(5, 5)));
    fs.writeFileSync(segmentPath(file, 1), lines(0, 5));
    fs.writeFileSync(file, lines(10, 5));
    const fromStart = recording(file);
    await fromStart.follower.poll();
    expect(steps(fromStart.seen)).toEqual(range(0, 15));
    const fromEnd = recording(file, { fromStart: false });
    await fromEnd.follower.poll();
    fs.appendFileSync(file, lines(15, 2));
    await fromEnd.follower.poll();
    expect(steps(fromEnd.seen)).toEqual([15, 16]);
  });

  it('continues where a reader of the stream start handed over, reading nothing twice', async () => {
    const file = tempFile();
    fs.writeFileSync(segmentPath(file, 1), lines(0, 5));
    fs.writeFileSync(file, lines(5, 5));
    const { follower, seen } = recording(file);
    const offset = Buffer.byteLength(lines(5, 3));
    follower.resumeAt({ lastSeq: 1, inode: fs.statSync(file).ino, offset });
    await follower.poll();
    expect(steps(seen)).toEqual([8, 9]);
  });

  it('waits for a missing file, says so once, and reads it whole once it appears', async () => {
    const file = tempFile();
    const missing: string[] = [];
    const { follower, seen } = recording(file, { fromStart: false, onMissing: (f) => missing.push(f) });
    expect(await follower.poll()).toBe(0);
    expect(await follower.poll()).toBe(0);
    fs.writeFileSync(file, lines(0, 3));
    await follower.poll();
    expect(missing).toEqual([file]);
    expect(steps(seen)).toEqual([0, 1, 2]);
  });

  it('names the path when it is given a directory', async () => {
    const file = tempFile();
    fs.mkdirSync(file);
    const { follower } = recording(file);
    await expect(follower.poll()).rejects.toMatchObject({
      message: `${file}: not a regular file; give an NDJSON file`,
      code: 'EISDIR',
    });
  });

  it('refuses a device without an errno that calls it a folder', async () => {
    const { follower } = recording('/dev/null');
    const refused = await follower.poll().then(
      () => undefined,
      (error: unknown) => error as NodeJS.ErrnoException,
    );
    expect(refused?.message).toBe('/dev/null: not a regular file; give an NDJSON file');
    expect(refused?.code).toBeUndefined();
  });
});
