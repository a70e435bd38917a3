/**
 * One byte range of a stream's backlog read into series of its own: what a worker thread does with
 * its share of a big file. The parts of all ranges are appended in file order by the stream reader
 * (`BucketSeries.append`), which gives the extremes and counts one reader would have found.
 */
import {
  PHASE_NAMES,
  type MalformedLine,
  type MetricVisitor,
  type PhaseId,
} from '../ndjson/line/metric-visitor.js';
import { NameTable } from '../ndjson/line/name-table.js';
import { readMetricRecords, WORKER_CHUNK_BYTES } from '../ndjson/read-metric-records.js';
import { BucketSeries, type BucketSeriesState } from './bucket-series.js';
import type { Phase } from '../step.js';

export interface BacklogRange {
  index: number;
  /** The file (reported in malformed-line messages). */
  path: string;
  /** An open descriptor on `path` (the active file, which may be renamed while it is read). */
  fd?: number;
  start: number;
  end: number;
  gzip: boolean;
  /**
   * Buckets a series of this range keeps at most: the store's cap when the read began
   * (bucket-budget.ts), so a part posted back is no bigger than what the store keeps of it.
   */
  maxBuckets?: number;
}

export interface SeriesPart {
  /** The rows' run id ('' when they carry none). */
  run: string;
  phase: Phase;
  name: string;
  state: BucketSeriesState;
}

export interface RangePart {
  series: SeriesPart[];
  /** Lines of the range: later ranges of the same file number their lines after these. */
  lines: number;
  malformed: MalformedLine[];
  /**
   * A line had no step. Such a point is placed at its series' point count, which a range that does
   * not start the stream cannot know: the caller reads the stream in one thread instead.
   */
  stepless: boolean;
}

class RangeVisitor implements MetricVisitor {
  constructor(private readonly maxBuckets: number | undefined) {}

  /** By run id + 1 (-1: none), phase and name id. */
  readonly series: (BucketSeries | undefined)[][][] = [];
  readonly malformedLines: MalformedLine[] = [];
  stepless = false;

  scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number): void {
    const byPhase = (this.series[run + 1] ??= [[], [], []]);
    let series = byPhase[phase]?.[name];
    if (series === undefined) {
      series = new BucketSeries(this.maxBuckets);
      (byPhase[phase] as BucketSeries[])[name] = series;
    }
    let x: number;
    if (typeof step === 'bigint') x = Number(step);
    else if (Number.isNaN(step)) {
      this.stepless = true;
      x = series.points;
    } else x = step;
    series.add(x, ts, value);
  }

  malformed(line: MalformedLine): void {
    this.malformedLines.push(line);
  }
}

export async function readBacklogRange(range: BacklogRange): Promise<RangePart> {
  const visitor = new RangeVisitor(range.maxBuckets);
  const tables = { names: new NameTable(), runs: new NameTable() };
  const stats = await readMetricRecords(range.path, visitor, tables, {
    fd: range.fd,
    start: range.start,
    end: range.end,
    gzip: range.gzip,
    chunkBytes: WORKER_CHUNK_BYTES,
  });
  const series: SeriesPart[] = [];
  visitor.series.forEach((byPhase, run) =>
    byPhase.forEach((byName, phase) =>
      byName.forEach((s, name) => {
        if (s !== undefined)
          series.push({
            run: run === 0 ? '' : tables.runs.name(run - 1),
            phase: PHASE_NAMES[phase] as Phase,
            name: tables.names.name(name),
            state: s.state(),
          });
      }),
    ),
  );
  return { series, lines: stats.lines, malformed: visitor.malformedLines, stepless: visitor.stepless };
}
