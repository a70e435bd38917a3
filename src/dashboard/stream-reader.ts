/**
 * Reads one stream into the series store: a big backlog first in worker threads (read-backlog.ts),
 * then the stream followed as it grows (../ndjson/stream-follower.ts: segments, truncation and
 * rotation are the follower's), each line parsed straight into the store.
 */
import fs from 'node:fs';
import { openIfExists } from '../files/open-existing.js';
import { errorText } from '../errors.js';
import { listSegments, streamFiles } from '../ndjson/segments.js';
import { IndexBuildQueue } from './index-build-queue.js';
import {
  INDEX_CATCH_UP_BYTES,
  INDEX_MIN_BYTES,
  readBacklogFromIndex,
  type IndexedBacklog,
} from './index-backlog.js';
import { CATALOG_MIN_SERIES, openStreamCatalog } from './catalog/open-catalog.js';
import { RunNames } from './run-names.js';
import { StreamFollower } from '../ndjson/stream-follower.js';
import { LineProcessor } from '../ndjson/line/line-processor.js';
import {
  PHASE_NAMES,
  type MalformedLine,
  type MetricVisitor,
  type PhaseId,
} from '../ndjson/line/metric-visitor.js';
import { NameTable } from '../ndjson/line/name-table.js';
import type { BacklogRange, RangePart } from './backlog-range.js';
import type { BucketSeries } from './bucket-series.js';
import { chartPlace } from './chart-key.js';
import type { StreamSpec } from './discover.js';
import type { BacklogOptions } from './read-backlog.js';
import type { SeriesStore } from './series-store.js';
import type { ZoomIndexCache } from './zoom/index-cache.js';

interface RunCache {
  run: string;
  series: (BucketSeries | undefined)[][];
  metric: string[][];
}

/** Feeds parsed scalars of one stream into the store, caching series by run and interned name id. */
class StoreVisitor implements MetricVisitor {
  private readonly byRun = new Map<number, RunCache>();
  private lastRun = NaN;
  private current: RunCache | undefined;
  /**
   * Whether a zoom reads this stream's index and rows (origins): not for a stream opened as a
   * catalog, whose index (180 MB at a million names) the zoom reader would load whole. Its series
   * zoom through the catalog (StreamCatalog.zoomOrigin) while it knows every row they hold.
   */
  zoomFromIndex = true;

  constructor(
    private readonly store: SeriesStore,
    private readonly spec: StreamSpec,
    readonly names: NameTable,
    private readonly runIds: NameTable,
    private readonly runNames: RunNames,
    private readonly onMalformed: (line: MalformedLine) => void,
  ) {}

  scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number): void {
    if (run !== this.lastRun) {
      this.lastRun = run;
      let cache = this.byRun.get(run);
      if (cache === undefined) {
        const runName = this.runNames.name(run < 0 ? '' : this.runIds.name(run));
        cache = { run: runName, series: [[], [], []], metric: [[], [], []] };
        this.byRun.set(run, cache);
      }
      this.current = cache;
    }
    const cache = this.current as RunCache;
    let series = cache.series[phase]?.[name];
    if (series === undefined) {
      const text = this.names.name(name);
      series = this.store.series(cache.run, this.spec.rank, PHASE_NAMES[phase], text);
      if (this.zoomFromIndex)
        this.store.origins.add(series, {
          activePath: this.spec.activePath,
          runId: run < 0 ? '' : this.runIds.name(run),
          phase: PHASE_NAMES[phase],
          name: text,
        });
      (cache.series[phase] as BucketSeries[])[name] = series;
      (cache.metric[phase] as string[])[name] = chartPlace(PHASE_NAMES[phase], text).metric;
    }
    const x = typeof step === 'bigint' ? Number(step) : Number.isNaN(step) ? series.points : step;
    series.add(x, ts, value);
    this.store.touch((cache.metric[phase] as string[])[name] as string);
  }

  malformed(line: MalformedLine): void {
    this.onMalformed(line);
  }
}

export class StreamReader {
  private readonly tables = { names: new NameTable(), runs: new NameTable() };
  private readonly runNames: RunNames;
  private readonly visitor: StoreVisitor;
  private readonly follower: StreamFollower;
  private started = false;
  /** Closed (the dashboard stops): an index built first is not opened any more. */
  private closed = false;
  /** The file being read, named in malformed-line reports: a closed segment or the active file. */
  private reading: string;
  private processor: LineProcessor;
  /** Lines already counted of the active file by the backlog read, for the processor that goes on. */
  private resumedLines = 0;

  constructor(
    readonly spec: StreamSpec,
    private readonly store: SeriesStore,
    private readonly onMalformed: (file: string, line: MalformedLine) => void = () => undefined,
    private readonly backlog: BacklogOptions = {},
    /** Where the indexes read at start go for the drag-zoom (LiveRuns.zoomIndex). */
    private readonly zoomIndex?: ZoomIndexCache,
    /** Where the index of a stream first read without one is built (LiveRuns.indexBuilds). */
    private readonly indexBuilds = new IndexBuildQueue(),
  ) {
    this.reading = spec.activePath;
    this.runNames = new RunNames(spec);
    this.visitor = new StoreVisitor(store, spec, this.tables.names, this.tables.runs, this.runNames, (line) =>
      this.reportMalformed(this.reading, line),
    );
    this.processor = this.newProcessor();
    this.follower = new StreamFollower({
      path: spec.activePath,
      fromStart: true,
      onFileStart: (file, offset) => {
        this.reading = file;
        this.processor = this.newProcessor();
        if (offset > 0) this.processor.lines = this.resumedLines;
      },
      onLines: ({ file, buf, end, fileOffset }) => {
        this.reading = file;
        this.processor.completeLines(buf, end, fileOffset);
      },
      onUnterminated: (file, line, fileOffset) => {
        this.reading = file;
        this.processor.lastLine(line, line.length, fileOffset);
      },
      onTooLong: (file, fileOffset, limit) => {
        this.reading = file;
        this.processor.tooLong(fileOffset, limit);
      },
      onSegmentError: (file, error) => {
        this.reading = file;
        this.reportMalformed(file, {
          line: 0,
          offset: 0,
          field: 'file',
          reason: `unreadable (${errorText(error)})`,
        });
      },
    });
  }

  /** Reads what is new. Returns whether anything was read. */
  async poll(): Promise<boolean> {
    if (!this.started) {
      this.started = true;
      if (await this.openCatalog()) return true;
      const indexed = await readBacklogFromIndex(
        this.spec,
        this.store,
        this.runNames,
        this.backlog.indexCatchUpBytes,
        this.backlog.indexMinBytes,
        this.zoomIndex,
      );
      if (indexed !== undefined) {
        this.reportIndexedMalformed(indexed.malformed);
        this.follower.resumeAt(indexed);
        return true;
      }
      if (await this.indexFirstIfManyNames()) return true;
      if (await this.readBacklogInWorkers()) {
        // Too big to index in this thread now: indexed beside, so the next open is fast.
        this.indexBuilds.add(streamFiles(this.spec.activePath), (message) =>
          process.stderr.write(`dashboard: ${message}\n`),
        );
        return true;
      }
    }
    return (await this.follower.poll()) > 0;
  }

  /**
   * A stream with very many names opens as a catalog (catalog/open-catalog.ts): its names are
   * listed from its index and its charts made when asked for. Returns false when it does not apply.
   */
  private async openCatalog(): Promise<boolean> {
    const opened = await openStreamCatalog(this.spec, this.runNames, {
      minSeries: this.backlog.catalogMinSeries,
      maxScanBytes: this.backlog.indexCatchUpBytes ?? INDEX_CATCH_UP_BYTES,
    });
    if (opened === undefined) return false;
    this.store.addCatalog(opened.catalog);
    // Its series zoom through the catalog, by the offsets of their buckets (see zoomFromIndex).
    this.visitor.zoomFromIndex = false;
    for (const { id, runId, run, phase, name, state } of opened.held) {
      const series = this.store.series(run, this.spec.rank, phase, name);
      series.append(state);
      this.store.origins.add(series, opened.catalog.zoomOrigin(id, { runId, phase, name }));
      this.store.touch(chartPlace(phase, name).metric);
    }
    this.reportIndexedMalformed(opened.malformed);
    this.follower.resumeAt({ lastSeq: 0, inode: opened.inode, offset: opened.offset });
    return true;
  }

  /**
   * A stream of very many names read without its index (its first open, a trainer's own file):
   * the index is built first, in a worker thread, and the stream opened from it as a catalog,
   * instead of held a series per name (catalog/names-at-start.ts). Returns false, with nothing
   * read, where it does not apply or the catalog cannot be opened after all; true once closed.
   */
  private async indexFirstIfManyNames(): Promise<boolean> {
    if (listSegments(this.spec.activePath).length > 0) return false;
    const fd = openIfExists(this.spec.activePath);
    if (fd === undefined) return false;
    let many = false;
    try {
      const { size } = fs.fstatSync(fd);
      const minSeries = this.backlog.catalogMinSeries ?? CATALOG_MIN_SERIES;
      if (size >= (this.backlog.indexMinBytes ?? INDEX_MIN_BYTES)) {
        const { seriesAtStart } = await import('./catalog/names-at-start.js');
        many = (await seriesAtStart(this.spec.activePath, fd, size, minSeries)) >= minSeries;
      }
    } finally {
      fs.closeSync(fd);
    }
    if (!many) return false;
    // A failed build is reported and leaves no index: the stream is read as before.
    const { buildIndexFirst } = await import('./catalog/index-first.js');
    const buildRssMb = await buildIndexFirst(this.spec.activePath, (message) =>
      process.stderr.write(`dashboard: ${message}\n`),
    );
    const catalog = this.store.catalog;
    catalog.indexedFirstPeakRssMb = Math.max(catalog.indexedFirstPeakRssMb, buildRssMb);
    if (this.closed) return true;
    if (!(await this.openCatalog())) return false;
    catalog.indexedFirst++;
    return true;
  }

  /** The writer exited: reads to the end, and a last line with no newline is read as a line. */
  async finish(): Promise<void> {
    await this.poll();
    await this.follower.finish();
  }

  close(): Promise<void> {
    this.closed = true;
    return this.follower.close();
  }

  private newProcessor(): LineProcessor {
    return new LineProcessor(this.visitor, this.tables.names, this.tables.runs);
  }

  /**
   * The first read of a big backlog, in worker threads (see read-backlog.ts); the follower then
   * goes on from where it stopped. Returns false, with nothing added to the store, when the
   * follower should read it all instead.
   */
  private async readBacklogInWorkers(): Promise<boolean> {
    // The parallel reader loads only for a stream read without its index (a first open).
    const { planBacklog, readBacklogParts } = await import('./read-backlog.js');
    const segments = listSegments(this.spec.activePath);
    const fd = openIfExists(this.spec.activePath);
    try {
      const stat = fd === undefined ? undefined : fs.fstatSync(fd);
      const active =
        fd === undefined || stat === undefined
          ? undefined
          : { path: this.spec.activePath, fd, size: stat.size };
      const plan = planBacklog(segments, active, this.backlog);
      if (plan === undefined) return false;
      // Each worker keeps no more buckets a series than the store does now (bucket-budget.ts).
      const maxBuckets = this.store.buckets.perSeries();
      const ranges = plan.ranges.map((range) => ({ ...range, maxBuckets }));
      const { activeEnd } = plan;
      // A range that fails (a segment removed by `metricsRotateKeep` since the listing, a corrupt
      // gzip) is read again by the follower, which handles each such failure as it always has.
      const parts = await readBacklogParts(ranges, this.backlog).catch((error: unknown) => {
        const reason = errorText(error);
        process.stderr.write(
          `dashboard: ${this.spec.activePath}: worker threads failed (${reason}); reading in one thread\n`,
        );
        return undefined;
      });
      if (parts === undefined || parts.some((part) => part.stepless)) return false;
      this.resumedLines = this.applyParts(ranges, parts);
      this.follower.resumeAt({
        lastSeq: segments.reduce((last, segment) => Math.max(last, segment.seq), 0),
        inode: stat?.ino ?? -1,
        offset: activeEnd,
      });
      return true;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /** Appends each range's series in stream order; returns the active file's line count. */
  private applyParts(ranges: readonly BacklogRange[], parts: readonly RangePart[]): number {
    const linesBefore = new Map<string, number>();
    parts.forEach((part, i) => {
      const file = (ranges[i] as BacklogRange).path;
      for (const { run, phase, name, state } of part.series) {
        const series = this.store.series(this.runNames.name(run), this.spec.rank, phase, name);
        series.append(state);
        this.store.origins.add(series, { activePath: this.spec.activePath, runId: run, phase, name });
        this.store.touch(chartPlace(phase, name).metric);
      }
      const base = linesBefore.get(file) ?? 0;
      for (const line of part.malformed) this.reportMalformed(file, { ...line, line: line.line + base });
      linesBefore.set(file, base + part.lines);
    });
    return linesBefore.get(this.spec.activePath) ?? 0;
  }

  /**
   * Malformed lines the run index counted (the rows around them were not read): the first few
   * where they are, the rest as one count.
   */
  private reportIndexedMalformed(files: IndexedBacklog['malformed']): void {
    for (const { file, count, samples } of files) {
      for (const line of samples)
        this.reportMalformed(
          file,
          line.line > 0 ? line : { ...line, reason: `${line.reason} (at byte ${line.offset})` },
        );
      const rest = count - samples.length;
      if (rest <= 0) continue;
      this.store.malformed += rest - 1;
      this.reportMalformed(file, {
        line: 0,
        offset: 0,
        field: 'file',
        reason: `${rest} more malformed lines (counted in the run index; \`codex-ndjson summarize\` reads them all)`,
      });
    }
  }

  private reportMalformed(file: string, line: MalformedLine): void {
    this.store.malformed++;
    this.onMalformed(file, line);
  }
}
