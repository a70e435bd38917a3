/**
 * Rotation without loss, in process and without timers: the NDJSON exporter driven directly, its
 * closed segments and active file read back as bytes and compared with the same rows written by an
 * exporter that never rotates. rotation.test.ts covers the same through startTelemetry and SIGKILL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RotationPolicy } from '../../../src/exporters/file/rotation-policy.js';
import { NdjsonExporter, type NdjsonExporterOptions } from '../../../src/exporters/ndjson/ndjson-exporter.js';
import { pruneSegments } from '../../../src/exporters/ndjson/segment-maintenance.js';
import { listSegments, segmentPath, streamFiles } from '../../../src/ndjson/segments.js';
import { SinkHealth } from '../../../src/health.js';
import type { Row } from '../../../src/pipeline/row.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-rotate-lossless-'));
  dirs.push(dir);
  return dir;
}

const rows = (from: number, count: number): Row[] =>
  Array.from({ length: count }, (_, i) => ({
    stream: 'train',
    phase: 'train' as const,
    step: from + i,
    ts: 1_700_000_000 + from + i,
    names: ['loss', 'lr'],
    values: [1 / (from + i + 1), (from + i) * 1e-6],
  }));

function exporter(dir: string, options: Partial<NdjsonExporterOptions> = {}): NdjsonExporter {
  return new NdjsonExporter({
    path: path.join(dir, 'metrics.ndjson'),
    runId: 'r1',
    streams: ['train'],
    health: new SinkHealth(() => undefined),
    ...options,
  });
}

/** The stream's bytes: closed segments in order (gunzipped), then the active file. */
function streamBytes(active: string): Buffer {
  return Buffer.concat(
    streamFiles(active).map((file) => {
      const bytes = fs.readFileSync(file);
      return file.endsWith('.gz') ? zlib.gunzipSync(bytes) : bytes;
    }),
  );
}

/** Batches of 1 to 7 rows, some flushed and some not, so rotations start while writes continue. */
async function writeBatches(sink: NdjsonExporter, total: number): Promise<void> {
  let step = 0;
  for (let batch = 0; step < total; batch++) {
    const count = Math.min(total - step, (batch % 7) + 1);
    sink.write(rows(step, count));
    step += count;
    if (batch % 3 === 0) await sink.flush();
  }
}

async function unrotatedBytes(total: number): Promise<Buffer> {
  const dir = tmpDir();
  const sink = exporter(dir);
  await writeBatches(sink, total);
  await sink.close();
  return fs.readFileSync(path.join(dir, 'metrics.ndjson'));
}

describe('NDJSON rotation without loss', () => {
  it('by size: the segments and the active file hold exactly the unrotated bytes, whole lines each', async () => {
    const dir = tmpDir();
    const sink = exporter(dir, { rotation: new RotationPolicy({ maxBytes: 1_000 }) });
    await writeBatches(sink, 400);
    await sink.close();
    const active = path.join(dir, 'metrics.ndjson');
    const files = streamFiles(active);
    expect(files.length).toBeGreaterThan(10);
    expect(files.slice(0, -1)).toEqual(files.slice(0, -1).map((_, i) => segmentPath(active, i + 1)));
    const expected = await unrotatedBytes(400);
    expect(streamBytes(active).equals(expected)).toBe(true);
    for (const file of files.slice(0, -1))
      expect(fs.readFileSync(file, 'utf8').endsWith('\n'), file).toBe(true);
    // A closed segment was closed only once it reached the size limit.
    for (const file of files.slice(0, -1)) expect(fs.statSync(file).size).toBeGreaterThanOrEqual(1_000);
  });

  it('runs a second rotation after the first, and closes nothing (using no number) when the file is empty', async () => {
    const dir = tmpDir();
    const sink = exporter(dir);
    const active = path.join(dir, 'metrics.ndjson');
    await expect(sink.rotateNow()).resolves.toBeUndefined();
    expect(listSegments(active)).toEqual([]);
    sink.write(rows(0, 3));
    const first = sink.rotateNow();
    const second = sink.rotateNow();
    await expect(first).resolves.toBe(segmentPath(active, 1));
    // The second waited for the first, then found the new active file empty.
    await expect(second).resolves.toBeUndefined();
    sink.write(rows(3, 2));
    await expect(sink.rotateNow()).resolves.toBe(segmentPath(active, 2));
    sink.write(rows(5, 1));
    await sink.close();
    const steps = (file: string): number[] =>
      fs
        .readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { step: number }).step);
    expect(steps(segmentPath(active, 1))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(steps(segmentPath(active, 2))).toEqual([3, 3, 4, 4]);
    expect(steps(active)).toEqual([5, 5]);
    expect(sink.segments()).toEqual([segmentPath(active, 1), segmentPath(active, 2)]);
  });

  it('makes close() wait for a rotation queued behind another, so the lines written between close as a segment', async () => {
    const dir = tmpDir();
    const sink = exporter(dir);
    const active = path.join(dir, 'metrics.ndjson');
    sink.write(rows(0, 1));
    const first = sink.rotateNow();
    const second = sink.rotateNow();
    await first;
    // Written after the first rotation closed its segment, before the queued one starts.
    sink.write(rows(1, 1));
    // Let the first rotation's bookkeeping run, without giving file I/O a turn.
    for (let i = 0; i < 5; i++) await Promise.resolve();
    await sink.close();
    await expect(second).resolves.toBe(segmentPath(active, 2));
    expect(fs.readFileSync(segmentPath(active, 2), 'utf8').trimEnd().split('\n')).toHaveLength(2);
  });

  it('gzips closed segments to the same bytes and keeps only the newest, naming each one removed', async () => {
    const dir = tmpDir();
    const info: string[] = [];
    const sink = exporter(dir, {
      rotation: new RotationPolicy({ maxBytes: 1_000 }),
      gzipSegments: true,
      keepSegments: 3,
      info: (line) => info.push(line),
    });
    await writeBatches(sink, 400);
    await sink.close();
    const active = path.join(dir, 'metrics.ndjson');
    const segments = listSegments(active);
    expect(segments.map((segment) => segment.gzip)).toEqual([true, true, true]);
    const last = segments.at(-1)?.seq as number;
    expect(segments.map((segment) => segment.seq)).toEqual([last - 2, last - 1, last]);
    expect(fs.readdirSync(dir).filter((name) => /\.\d{6}\.ndjson$/.test(name))).toEqual([]);
    expect(info).toEqual(
      Array.from(
        { length: last - 3 },
        (_, i) =>
          `codex-telemetry: removed old metrics segment ${segmentPath(active, i + 1)}.gz (keeping the newest 3)`,
      ),
    );
    // What is kept is the unrotated stream's tail, byte for byte.
    const expected = await unrotatedBytes(400);
    const kept = streamBytes(active);
    expect(expected.subarray(expected.length - kept.length).equals(kept)).toBe(true);
    expect(kept.length).toBeGreaterThan(3_000);
  });

  it('numbers new segments after those an earlier run left, so names keep sorting in write order', async () => {
    const dir = tmpDir();
    const active = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(segmentPath(active, 7), '{"earlier":1}\n');
    const sink = exporter(dir);
    sink.write(rows(0, 1));
    await expect(sink.rotateNow()).resolves.toBe(segmentPath(active, 8));
    await sink.close();
    expect(path.basename(segmentPath(active, 8))).toBe('metrics.000008.ndjson');
  });

  it('counts the lines it wrote, and drops rows written after close without touching the file', async () => {
    const dir = tmpDir();
    const sink = exporter(dir);
    sink.write(rows(0, 3));
    sink.write([{ ...(rows(3, 1)[0] as Row), stream: 'eval' }]);
    expect(sink.rowsWritten).toBe(3);
    await sink.close();
    const active = path.join(dir, 'metrics.ndjson');
    const before = fs.readFileSync(active);
    sink.write(rows(4, 2));
    await sink.flush();
    expect(fs.readFileSync(active).equals(before)).toBe(true);
    expect(sink.rowsWritten).toBe(3);
  });

  it('keeps every line in the active file when the rename fails, and reports no segment', async () => {
    const dir = tmpDir();
    const warnings: string[] = [];
    const health = new SinkHealth((message) => warnings.push(message));
    const sink = exporter(dir, { health });
    const active = path.join(dir, 'metrics.ndjson');
    // The segment's name is taken by a non-empty directory, so renaming the active file onto it fails.
    fs.mkdirSync(path.join(segmentPath(active, 1), 'x'), { recursive: true });
    sink.write(rows(0, 2));
    await expect(sink.rotateNow()).resolves.toBeUndefined();
    await sink.close();
    expect(fs.readFileSync(active, 'utf8').trimEnd().split('\n')).toHaveLength(4);
    expect(warnings.join('\n')).toMatch(/ENOTEMPTY|EISDIR|EEXIST/);
  });

  it('counts no line for a file that could not be opened', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'file'), '');
    const sink = exporter(path.join(dir, 'file'));
    sink.write(rows(0, 3));
    expect(sink.rowsWritten).toBe(0);
    await sink.close();
  });

  it('does not warn about a segment that disappeared before it could be removed', async () => {
    const dir = tmpDir();
    const active = path.join(dir, 'metrics.ndjson');
    for (const seq of [1, 2]) fs.writeFileSync(segmentPath(active, seq), '');
    const realUnlink = fs.promises.unlink;
    // Another process (a second pruner, a cleanup script) removes it first.
    const unlink = vi.spyOn(fs.promises, 'unlink').mockImplementation(async (target) => {
      await realUnlink(target);
      throw Object.assign(new Error(`ENOENT: no such file or directory, unlink '${String(target)}'`), {
        code: 'ENOENT',
      });
    });
    const warnings: string[] = [];
    try {
      await expect(
        pruneSegments(
          active,
          1,
          () => undefined,
          (line) => void warnings.push(line),
        ),
      ).resolves.toEqual([]);
    } finally {
      unlink.mockRestore();
    }
    expect(warnings).toEqual([]);
  });

  it('archives: closes the active file as a segment and lists every closed segment', async () => {
    const dir = tmpDir();
    const sink = exporter(dir);
    const active = path.join(dir, 'metrics.ndjson');
    sink.write(rows(0, 2));
    await sink.rotateNow();
    sink.write(rows(2, 2));
    await expect(sink.archiveSegments()).resolves.toEqual([segmentPath(active, 1), segmentPath(active, 2)]);
    await sink.close();
    expect(fs.readFileSync(segmentPath(active, 2), 'utf8').trimEnd().split('\n')).toHaveLength(4);
  });

  it('prunes the oldest segments beyond the cap, returns what it removed, and warns for one it cannot remove', async () => {
    const dir = tmpDir();
    const active = path.join(dir, 'metrics.ndjson');
    for (const seq of [1, 2, 3, 4]) fs.writeFileSync(segmentPath(active, seq), `${seq}\n`);
    // Segment 2 cannot be unlinked: it is a directory.
    fs.rmSync(segmentPath(active, 2));
    fs.mkdirSync(segmentPath(active, 2));
    const info: string[] = [];
    const warnings: string[] = [];
    const push = (into: string[]) => (line: string) => void into.push(line);
    await expect(pruneSegments(active, 0, push(info), push(warnings))).resolves.toEqual([]);
    expect(listSegments(active)).toHaveLength(4);
    await expect(pruneSegments(active, 1, push(info), push(warnings))).resolves.toEqual([
      segmentPath(active, 1),
      segmentPath(active, 3),
    ]);
    expect(info).toEqual(
      [1, 3].map(
        (seq) =>
          `codex-telemetry: removed old metrics segment ${segmentPath(active, seq)} (keeping the newest 1)`,
      ),
    );
    expect(warnings).toEqual([
      expect.stringContaining(`cannot remove old metrics segment ${segmentPath(active, 2)}`),
    ]);
    expect(listSegments(active).map((segment) => segment.seq)).toEqual([2, 4]);
  });
});

describe('NDJSON segment names', () => {
  it("lists a stream's own segments in sequence order, a segment left both plain and gzipped once, plain", () => {
    const dir = tmpDir();
    const active = path.join(dir, 'metrics.ndjson');
    for (const name of [
      'metrics.000010.ndjson',
      'metrics.000002.ndjson.gz',
      'metrics.000002.ndjson',
      'metrics.000003.ndjson.gz',
      'metrics.1234567.ndjson',
      // Not this stream's: another stem, too few digits, a temporary gzip, another extension.
      'metrics-eval.000001.ndjson',
      'metrics.00001.ndjson',
      'metrics.000004.ndjson.gz.tmp',
      'metrics.000005.json',
      'xmetrics.000006.ndjson',
    ])
      fs.writeFileSync(path.join(dir, name), '');
    expect(listSegments(active)).toEqual([
      { seq: 2, path: path.join(dir, 'metrics.000002.ndjson'), gzip: false },
      { seq: 3, path: path.join(dir, 'metrics.000003.ndjson.gz'), gzip: true },
      { seq: 10, path: path.join(dir, 'metrics.000010.ndjson'), gzip: false },
      { seq: 1_234_567, path: path.join(dir, 'metrics.1234567.ndjson'), gzip: false },
    ]);
    // The active file comes last, and only when it exists.
    expect(streamFiles(active)).toHaveLength(4);
    fs.writeFileSync(active, '');
    expect(streamFiles(active).at(-1)).toBe(active);
    expect(listSegments(path.join(dir, 'missing', 'metrics.ndjson'))).toEqual([]);
  });

  it('keeps a stem with regex characters literal and names files without the .ndjson extension by theirs', () => {
    const dir = tmpDir();
    expect(segmentPath(path.join(dir, 'run+1.ndjson'), 12)).toBe(path.join(dir, 'run+1.000012.ndjson'));
    expect(segmentPath(path.join(dir, 'log.jsonl'), 3)).toBe(path.join(dir, 'log.000003.jsonl'));
    expect(segmentPath(path.join(dir, '.ndjson.log'), 3)).toBe(path.join(dir, '.ndjson.000003.log'));
    fs.writeFileSync(path.join(dir, 'run+1.000001.ndjson'), '');
    fs.writeFileSync(path.join(dir, 'runn1.000002.ndjson'), '');
    expect(listSegments(path.join(dir, 'run+1.ndjson')).map((segment) => segment.seq)).toEqual([1]);
  });
  it('sorts segments by number whatever order the directory lists them in', () => {
    const dir = tmpDir();
    const active = path.join(dir, 'metrics.ndjson');
    // A fixed shuffle of 1..40, created in that order; past 999,999 the name grows a digit, so
    // name order (how ext4 here lists this directory) and number order part ways.
    const seqs = [
      ...Array.from({ length: 40 }, (_, i) => ((i * 17) % 40) + 1),
      1_000_001,
      999_999,
      1_000_000,
    ];
    for (const seq of seqs) fs.writeFileSync(segmentPath(active, seq), '');
    expect(listSegments(active).map((segment) => segment.seq)).toEqual([
      ...Array.from({ length: 40 }, (_, i) => i + 1),
      999_999,
      1_000_000,
      1_000_001,
    ]);
  });

  it('reports a directory it cannot list for a reason other than its absence', () => {
    const dir = tmpDir();
    fs.symlinkSync(path.join(dir, 'loop'), path.join(dir, 'loop'));
    expect(() => listSegments(path.join(dir, 'loop', 'metrics.ndjson'))).toThrow(/ELOOP/);
  });
});
