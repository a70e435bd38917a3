import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RotationPolicy } from '../../../src/exporters/file/rotation-policy.js';
import { NdjsonExporter } from '../../../src/exporters/ndjson/ndjson-exporter.js';
import type { Row } from '../../../src/pipeline/row.js';
import { SinkHealth } from '../../../src/health.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const rows = (from: number, count: number): Row[] =>
  Array.from({ length: count }, (_, i) => ({
    stream: 'train',
    phase: 'train' as const,
    step: from + i,
    ts: 1.7e9,
    names: ['loss'],
    values: [from + i],
  }));

describe('NDJSON rotation failures', () => {
  it('a segment cleanup failure (EMFILE) leaves no unhandled rejection, warns, and loses no line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-rotate-fail-'));
    dirs.push(dir);
    const active = path.join(dir, 'metrics.ndjson');
    const warnings: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const health = new SinkHealth((message) => warnings.push(message));
      const sink = new NdjsonExporter({
        path: active,
        runId: 'r',
        streams: ['train'],
        health,
        rotation: new RotationPolicy({ maxBytes: 200 }),
        keepSegments: 1,
      });
      // Every later directory listing (the cleanup's) fails as if the process ran out of descriptors.
      const realReaddir = fs.readdirSync;
      vi.spyOn(fs, 'readdirSync').mockImplementation(((...args: Parameters<typeof fs.readdirSync>) => {
        if (String(args[0]) === dir)
          throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
        return realReaddir(...args);
      }) as typeof fs.readdirSync);
      for (let batch = 0; batch < 5; batch++) {
        sink.write(rows(batch * 10, 10));
        await expect(sink.flush()).resolves.toBeUndefined();
      }
      await sink.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      vi.restoreAllMocks();
      expect(unhandled).toEqual([]);
      expect(warnings.some((message) => message.includes('EMFILE'))).toBe(true);
      expect(health.isUp('ndjson')).toBe(true);
      const steps = fs
        .readdirSync(dir)
        .filter((name) => name.endsWith('.ndjson'))
        .sort()
        .flatMap((name) => fs.readFileSync(path.join(dir, name), 'utf8').split('\n'))
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as { step: number }).step)
        .sort((a, b) => a - b);
      expect(steps).toEqual(Array.from({ length: 50 }, (_, i) => i));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('NDJSON segment gzip failures', () => {
  it('reach the warn channel (not only diag), keep the plain segment, and leave the sink up', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-gzip-fail-'));
    dirs.push(dir);
    const warnings: string[] = [];
    const health = new SinkHealth((message) => warnings.push(message));
    const sink = new NdjsonExporter({
      path: path.join(dir, 'metrics.ndjson'),
      runId: 'r',
      streams: ['train'],
      health,
      gzipSegments: true,
    });
    // The gzip temp file cannot be created, as on a directory that turned read-only.
    const realCreateWriteStream = fs.createWriteStream;
    vi.spyOn(fs, 'createWriteStream').mockImplementation(((
      ...args: Parameters<typeof fs.createWriteStream>
    ) => {
      if (String(args[0]).endsWith('.gz.tmp'))
        throw Object.assign(new Error('EROFS: read-only file system, open'), { code: 'EROFS' });
      return realCreateWriteStream(...args);
    }) as typeof fs.createWriteStream);
    sink.write(rows(0, 10));
    const segments = await sink.archiveSegments();
    await sink.close();
    expect(segments.map((segment) => path.basename(segment))).toEqual(['metrics.000001.ndjson']);
    expect(warnings).toEqual([
      expect.stringMatching(/cannot gzip .*metrics\.000001\.ndjson, keeping it plain \(EROFS/),
    ]);
    expect(health.isUp('ndjson')).toBe(true);
  });
});
