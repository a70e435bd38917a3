/**
 * One rotation rule for both rotating writers: a rotation that fails is a warning, and the writer
 * keeps its current file, up, losing nothing; it tries again only once the bound is crossed again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RotationPolicy } from '../../../src/exporters/file/rotation-policy.js';
import { NdjsonExporter } from '../../../src/exporters/ndjson/ndjson-exporter.js';
import { EventFileWriter } from '../../../src/exporters/tensorboard/event-file-writer.js';
import { frameRecord, scanRecords } from '../../../src/formats/codec/tfrecord.js';
import { SinkHealth } from '../../../src/health.js';
import { listSegments, segmentPath } from '../../../src/ndjson/segments.js';
import type { Row } from '../../../src/pipeline/row.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-rotation-rule-'));
  dirs.push(dir);
  return dir;
}

const rows = (from: number, count: number): Row[] =>
  Array.from({ length: count }, (_, i) => ({
    stream: 'train',
    phase: 'train' as const,
    step: from + i,
    ts: 1_700_000_000 + from + i,
    names: ['loss'],
    values: [from + i],
  }));

describe('a failed rotation', () => {
  it('leaves the NDJSON sink up and writing the same file, warns once, and rotates once the name is free', async () => {
    const dir = tmpDir();
    const active = path.join(dir, 'metrics.ndjson');
    const warnings: string[] = [];
    const health = new SinkHealth((message) => warnings.push(message));
    const sink = new NdjsonExporter({
      path: active,
      runId: 'r1',
      streams: ['train'],
      health,
      rotation: new RotationPolicy({ maxBytes: 1000 }),
    });
    // The first segment's name is then taken by a non-empty directory: renaming onto it fails.
    fs.mkdirSync(path.join(segmentPath(active, 1), 'x'), { recursive: true });
    for (let step = 0; step < 40; step++) {
      sink.write(rows(step, 1));
      await sink.flush();
    }
    expect(health.isUp('ndjson')).toBe(true);
    const failures = warnings.filter((w) => w.includes('rotating'));
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures[0]).toMatch(
      /rotating .*metrics\.ndjson failed \((ENOTEMPTY|EISDIR|EEXIST).*still writing it/,
    );
    await sink.close();
    // Every row is in some file of the stream, once: segment 1 was skipped, later ones hold the rest.
    const files = [
      ...listSegments(active)
        .filter((s) => s.seq > 1)
        .map((s) => s.path),
      active,
    ];
    const steps = files.flatMap((file) =>
      fs
        .readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { step: number }).step),
    );
    expect(steps).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(failures.length).toBeLessThan(steps.length / 4);
  });

  it('leaves the TensorBoard sink up when its next event file cannot be created, with every record in the current file', async () => {
    const dir = tmpDir();
    const warnings: string[] = [];
    const health = new SinkHealth((message) => warnings.push(message));
    const writer = new EventFileWriter({
      dir,
      hostname: 'host',
      pid: 7,
      sink: 'tensorboard',
      health,
      rotation: new RotationPolicy({ maxBytes: 200 }),
      now: () => 1_700_000_000,
    });
    // The next file's name (same second, sequence 1) is taken by a directory.
    fs.mkdirSync(path.join(dir, 'events.out.tfevents.1700000000.host.7.000001'));
    const record = frameRecord(new Uint8Array(50).fill(7));
    for (let i = 0; i < 10; i++) {
      writer.append(record);
      await writer.flush();
    }
    await writer.close();
    expect(health.isUp('tensorboard')).toBe(true);
    expect(warnings.some((w) => /rotating .*000000 failed \(EISDIR/.test(w))).toBe(true);
    // Every record once, whole, across the files that could be created: each starts with its
    // version header; the one the directory blocked was skipped, not written into.
    const files = fs
      .readdirSync(dir)
      .filter((name) => fs.statSync(path.join(dir, name)).isFile())
      .sort();
    expect(files[0]).toBe('events.out.tfevents.1700000000.host.7.000000');
    const payloads = files.flatMap((name) => {
      const scan = scanRecords(fs.readFileSync(path.join(dir, name)));
      expect(scan.ok && scan.truncatedAt === undefined).toBe(true);
      return scan.records.map((r) => r.payload);
    });
    expect(payloads.filter((p) => p.length === 50 && p.every((b) => b === 7))).toHaveLength(10);
    expect(payloads).toHaveLength(10 + files.length);
  });
});
