/** Pieces the exporter benchmarks share: the NDJSON baseline exporter, timing, the raw-write ceiling. */
import fs from 'node:fs';
import { NdjsonExporter } from '../src/exporters/ndjson/ndjson-exporter.js';
import { SinkHealth } from '../src/health.js';

export const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

/** Our NDJSON exporter, the same-run baseline the other file sinks are held to. */
export function ndjson(file: string): NdjsonExporter {
  return new NdjsonExporter({
    path: file,
    runId: 'bench001',
    streams: ['train'],
    health: new SinkHealth(() => undefined),
  });
}

/** An exporter's own bytes, written in ~1 MiB writes with fs.writeSync, then fsync'd and closed: items per second. */
export function rawWriteRate(bytes: Buffer, file: string, items: number): number {
  const start = process.hrtime.bigint();
  const fd = fs.openSync(file, 'w');
  for (let at = 0; at < bytes.length; at += 1 << 20)
    fs.writeSync(fd, bytes, at, Math.min(1 << 20, bytes.length - at));
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  return items / seconds(start);
}
