/**
 * Reads one stream incrementally: its closed segments once, in order, then the active file from
 * where the last poll stopped, whole lines only. A growing file is never read again from the
 * start. A rotation (the path now names another file) finishes the old file through the descriptor
 * still open on it, reads any segment closed meanwhile, and starts on the new file; a truncation
 * starts the file over.
 */
import fs from 'node:fs';
import { errnoCode } from '../errors.js';
import { listSegments } from '../ndjson/segments.js';
import { LineProcessor } from '../ndjson/line/line-processor.js';
import {
  PHASE_NAMES,
  type MalformedLine,
  type MetricVisitor,
  type PhaseId,
} from '../ndjson/line/metric-visitor.js';
import { NameTable } from '../ndjson/line/name-table.js';
import { readMetricRecords } from '../ndjson/read-metric-records.js';
import type { BacklogRange, RangePart } from './backlog-range.js';
import type { BucketSeries } from './bucket-series.js';
import { chartPlace } from './chart-key.js';
import type { StreamSpec } from './discover.js';
import { planBacklog, readBacklogParts, type BacklogOptions } from './read-backlog.js';
import type { SeriesStore } from './series-store.js';

const CHUNK_BYTES = 1 << 20;
/** A longer unfinished line is dropped as malformed rather than held. */
const MAX_PENDING_BYTES = 64 << 20;

/** Feeds parsed scalars of one stream into the store, caching series by interned name id. */
class StoreVisitor implements MetricVisitor {
  private readonly cache: (BucketSeries | undefined)[][] = [[], [], []];
  private readonly metric: string[][] = [[], [], []];

  constructor(
    private readonly store: SeriesStore,
    private readonly spec: StreamSpec,
    readonly names: NameTable,
    private readonly onMalformed: (line: MalformedLine) => void,
  ) {}

  scalar(phase: PhaseId, name: number, _run: number, step: number | bigint, ts: number, value: number): void {
    let series = this.cache[phase]?.[name];
    if (series === undefined) {
      const text = this.names.name(name);
      series = this.store.series(this.spec.run, this.spec.rank, PHASE_NAMES[phase], text);
      (this.cache[phase] as BucketSeries[])[name] = series;
      (this.metric[phase] as string[])[name] = chartPlace(PHASE_NAMES[phase], text).metric;
    }
    const x = typeof step === 'bigint' ? Number(step) : Number.isNaN(step) ? series.points : step;
    series.add(x, ts, value);
    this.store.touch((this.metric[phase] as string[])[name] as string);
  }

  malformed(line: MalformedLine): void {
    this.onMalformed(line);
  }
}

export class StreamReader {
  private readonly tables = { names: new NameTable(), runs: new NameTable() };
  private readonly visitor: StoreVisitor;
  private started = false;
  private lastSeq = 0;
  private fd: number | undefined;
  private ino = 0;
  private offset = 0;
  private pending: Buffer = Buffer.alloc(0);
  private processor: LineProcessor | undefined;
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  /** The file being read, named in malformed-line reports: a closed segment or the active file. */
  private reading: string;

  constructor(
    readonly spec: StreamSpec,
    private readonly store: SeriesStore,
    private readonly onMalformed: (file: string, line: MalformedLine) => void = () => undefined,
    private readonly backlog: BacklogOptions = {},
  ) {
    this.reading = spec.activePath;
    this.visitor = new StoreVisitor(store, spec, this.tables.names, (line) =>
      this.reportMalformed(this.reading, line),
    );
  }

  /** Reads what is new. Returns whether anything was read. */
  async poll(): Promise<boolean> {
    let read = false;
    if (!this.started) {
      this.started = true;
      if (await this.readBacklogInWorkers()) return true;
      read = (await this.readSegmentsAfter(0)) || read;
    }
    if (this.fd === undefined && !this.open()) return read;
    read = this.readAvailable() || read;
    const now = statOrUndefined(this.spec.activePath);
    if (now === undefined || now.ino !== this.ino) {
      // Rotated: the descriptor still reads the old file, now a segment. Finish it, close it.
      this.readAvailable();
      this.finishFile();
      // The old file became segment lastSeq + 1; any later one was closed before we looked.
      read = (await this.readSegmentsAfter(this.lastSeq + 1)) || true;
      if (now !== undefined && this.open()) this.readAvailable();
    } else if (now.size < this.offset) {
      this.finishFile();
      if (this.open()) this.readAvailable();
      read = true;
    }
    return read;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /**
   * The first read of a big backlog, in worker threads (see read-backlog.ts). Returns false, with
   * nothing added to the store, when this thread should read it the usual way instead.
   */
  private async readBacklogInWorkers(): Promise<boolean> {
    const segments = listSegments(this.spec.activePath);
    const fd = this.open() ? this.fd : undefined;
    const active =
      fd === undefined ? undefined : { path: this.spec.activePath, fd, size: fs.fstatSync(fd).size };
    const plan = planBacklog(segments, active, this.backlog);
    if (plan === undefined) return false;
    const { ranges, activeEnd } = plan;
    // A range that fails (a segment removed by `metricsRotateKeep` since the listing, a corrupt
    // gzip) is read again in this thread, which handles each such failure as it always has.
    const parts = await readBacklogParts(ranges, this.backlog).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      process.stderr.write(
        `dashboard: ${this.spec.activePath}: worker threads failed (${reason}); reading in one thread\n`,
      );
      return undefined;
    });
    if (parts === undefined || parts.some((part) => part.stepless)) return false;
    this.lastSeq = segments.reduce((last, segment) => Math.max(last, segment.seq), 0);
    const activeLines = this.applyParts(ranges, parts);
    if (active !== undefined && this.processor !== undefined) {
      this.offset = activeEnd;
      this.processor.lines = activeLines;
    }
    return true;
  }

  /** Appends each range's series in stream order; returns the active file's line count. */
  private applyParts(ranges: readonly BacklogRange[], parts: readonly RangePart[]): number {
    const linesBefore = new Map<string, number>();
    parts.forEach((part, i) => {
      const file = (ranges[i] as BacklogRange).path;
      for (const { phase, name, state } of part.series) {
        this.store.series(this.spec.run, this.spec.rank, phase, name).append(state);
        this.store.touch(chartPlace(phase, name).metric);
      }
      const base = linesBefore.get(file) ?? 0;
      for (const line of part.malformed) this.reportMalformed(file, { ...line, line: line.line + base });
      linesBefore.set(file, base + part.lines);
    });
    return linesBefore.get(this.spec.activePath) ?? 0;
  }

  private reportMalformed(file: string, line: MalformedLine): void {
    this.store.malformed++;
    this.onMalformed(file, line);
  }

  private async readSegmentsAfter(seq: number): Promise<boolean> {
    let read = false;
    for (const segment of listSegments(this.spec.activePath)) {
      this.lastSeq = Math.max(this.lastSeq, segment.seq);
      if (segment.seq <= seq) continue;
      this.reading = segment.path;
      await readMetricRecords(segment.path, this.visitor, this.tables)
        .catch((error: unknown) => {
          // A segment removed by `metricsRotateKeep` between the listing and the read is gone, not broken.
          if (errnoCode(error) !== 'ENOENT') throw error;
        })
        .finally(() => (this.reading = this.spec.activePath));
      read = true;
    }
    return read;
  }

  private open(): boolean {
    try {
      this.fd = fs.openSync(this.spec.activePath, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false;
      throw error;
    }
    this.ino = fs.fstatSync(this.fd).ino;
    this.offset = 0;
    this.pending = Buffer.alloc(0);
    this.processor = new LineProcessor(this.visitor, this.tables.names, this.tables.runs);
    return true;
  }

  /** Reads from the offset to the current end, handing whole lines on; keeps the unfinished tail. */
  private readAvailable(): boolean {
    const fd = this.fd;
    const processor = this.processor;
    if (fd === undefined || processor === undefined) return false;
    let any = false;
    for (;;) {
      const n = fs.readSync(fd, this.buffer, 0, CHUNK_BYTES, this.offset);
      if (n === 0) return any;
      any = true;
      this.offset += n;
      const chunk =
        this.pending.length === 0
          ? this.buffer.subarray(0, n)
          : Buffer.concat([this.pending, this.buffer.subarray(0, n)]);
      const chunkStart = this.offset - chunk.length;
      const last = chunk.lastIndexOf(0x0a);
      if (last >= 0) processor.completeLines(chunk, last + 1, chunkStart);
      this.pending = Buffer.from(chunk.subarray(last + 1));
      if (this.pending.length > MAX_PENDING_BYTES) {
        processor.tooLong(chunkStart + last + 1, MAX_PENDING_BYTES);
        this.pending = Buffer.alloc(0);
      }
    }
  }

  /** The file is complete: its unterminated last line (if any) is a line too. */
  private finishFile(): void {
    if (this.processor !== undefined && this.pending.length > 0) {
      this.processor.lastLine(this.pending, this.pending.length, this.offset - this.pending.length);
    }
    this.pending = Buffer.alloc(0);
    this.close();
  }
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}
