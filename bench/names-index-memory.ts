/**
 * Where the memory goes when a run index is built for a stream of very many names (the index a
 * dashboard's first open builds in the background): the builder is fed every row, a block cut and
 * written each MAX_PART_RECORD_BYTES of records, and the last one cut with its open buckets, as a
 * build that only writes its index does (stream-index.ts, `inParts`). Prints the process's memory
 * after each stage and its peak RSS. Not a row of `run-all`: one process per measurement, since a
 * peak RSS is the process's.
 *
 *   node dist/bench/names-index-memory.js [names=1000000] [dir=/tmp/codex-names-index]
 */
import fs from 'node:fs';
import path from 'node:path';
import { readMetricRecords } from '../src/ndjson/read-metric-records.js';
import { wholeLinesEnd } from '../src/ndjson/split-points.js';
import { IndexBuilder } from '../src/run-index/index-builder.js';
import { BlockWriter, MAX_PART_RECORD_BYTES } from '../src/run-index/block-writer.js';
import { besidePath } from '../src/run-index/index-path.js';
import { IndexingVisitor } from '../src/run-index/stream-index.js';
import { generate } from './dashboard-names.bench.js';

const MB = 1e6;

function peakRssMb(): number {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function stage(label: string): void {
  const m = process.memoryUsage();
  const line = [
    label.padEnd(34),
    `rss ${(m.rss / MB).toFixed(0)} MB`,
    `heap used ${(m.heapUsed / MB).toFixed(0)} MB`,
    `array buffers ${(m.arrayBuffers / MB).toFixed(0)} MB`,
    `peak rss ${peakRssMb().toFixed(0)} MB`,
  ];
  process.stdout.write(`${line.join('  ')}\n`);
}

const USAGE = 'usage: node dist/bench/names-index-memory.js [NAMES=1000000] [DIR=/tmp/codex-names-index]';
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const names = Number(process.argv[2] ?? 1_000_000);
if (!Number.isInteger(names) || names < 1) {
  process.stderr.write(
    `names-index-memory: NAMES must be a positive integer, not ${process.argv[2]}\n${USAGE}\n`,
  );
  process.exit(2);
}
const dir = process.argv[3] ?? '/tmp/codex-names-index';
const stream = path.join(dir, `names-${names}.ndjson`);
if (!fs.existsSync(stream)) generate(stream, names);
const indexPath = besidePath(stream);
fs.rmSync(indexPath, { force: true });

stage('start');
const builder = new IndexBuilder();
const visitor = new IndexingVisitor(builder, () => undefined, true);
const fd = fs.openSync(stream, 'r');
const end = wholeLinesEnd(fd, fs.fstatSync(fd).size);
const writer = new BlockWriter(indexPath, 0, stream, fd, (message) => process.stderr.write(`${message}\n`));
visitor.partBytes = MAX_PART_RECORD_BYTES;
visitor.onPart = (partEnd) => {
  const block = builder.cut(partEnd);
  writer.append(block);
  builder.forgetCutDefs();
  builder.recycle(block.records);
};
await readMetricRecords(stream, visitor, visitor.tables, {
  fd,
  end,
  onProcessor: (processor) => (visitor.processor = processor),
});
global.gc?.();
stage(`every row read (${writer.parts} parts written)`);
const block = builder.cutLast(end);
global.gc?.();
stage(`last cut (${block.records.length / 18} records)`);
writer.append(block);
writer.close();
fs.closeSync(fd);
global.gc?.();
stage(`written (${(fs.statSync(indexPath).size / MB).toFixed(0)} MB)`);
process.stdout.write(`peak RSS ${peakRssMb().toFixed(0)} MB\n`);
