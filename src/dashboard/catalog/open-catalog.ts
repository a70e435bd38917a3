/**
 * Opens a stream with very many names from its run index as a catalog (stream-catalog.ts): the
 * index is walked a chunk at a time (src/run-index/index-scan.ts), names are kept in one sorted
 * table and each series' level-0 records by their file offsets, and the rows after the index are
 * read once into small in-memory buckets. Nothing per series enters the store: charts are made
 * when asked for. System series, and series first seen after the index, are few: they come back
 * as buckets, to be held as any series.
 *
 * Taken only when it applies: one plain file (no rotated segments), an index that matches it,
 * at least `minSeries` non-system series, rows with steps, and at most `maxScanBytes` of stream
 * after the index. Otherwise undefined, and the stream is read as before (index-backlog.ts). Its
 * size does not matter: a 12 MB stream of 100,000 names (read whole below 16 MiB) gains as much.
 */
import fs from 'node:fs';
import { openIfExists } from '../../files/open-existing.js';
import { listSegments } from '../../ndjson/segments.js';
import { wholeLinesEnd } from '../../ndjson/split-points.js';
import { readMetricRecords } from '../../ndjson/read-metric-records.js';
import { NameTable } from '../../ndjson/line/name-table.js';
import type { LineProcessor } from '../../ndjson/line/line-processor.js';
import {
  PHASE_NAMES,
  type MalformedLine,
  type MetricVisitor,
  type PhaseId,
} from '../../ndjson/line/metric-visitor.js';
import {
  COUNT,
  FIRST_STEP,
  LAST_OFFSET,
  LEVEL,
  RECORD_COLUMNS,
  SERIES,
} from '../../run-index/bucket-record.js';
import { indexCandidates } from '../../run-index/index-path.js';
import { forEachDef, forEachRecord } from '../../run-index/index-parts.js';
import { scanIndex, type ScannedIndex } from '../../run-index/index-scan.js';
import type { BucketSeriesState } from '../bucket-series.js';
import type { StreamSpec } from '../discover.js';
import type { RunNames } from '../run-names.js';
import type { Phase } from '../../step.js';
import {
  compareBytes,
  FLAG_EVAL_PHASE,
  FLAG_EVAL_PREFIX,
  lowerBound,
  StreamCatalog,
} from './stream-catalog.js';
import { TailBuckets } from './tail-buckets.js';

/**
 * Non-system series from which a stream is opened as a catalog: below it every series is held,
 * as it always was (a run of a few dozen names draws every chart at once).
 */
export const CATALOG_MIN_SERIES = 10_000;

/** The fewest bytes a series definition takes in an index: `[0,"","eval",""],`. */
const MIN_DEF_BYTES = 17;

export interface CatalogOptions {
  minSeries?: number;
  /** Stream bytes after the index read at open; past it, undefined (the parallel reader reads). */
  maxScanBytes: number;
}

export interface HeldSeries {
  /** Its id in the catalog (where a zoom finds its buckets: StreamCatalog.zoomOrigin). */
  id: number;
  runId: string;
  run: string;
  phase: Phase;
  name: string;
  state: BucketSeriesState;
}

export interface OpenedCatalog {
  catalog: StreamCatalog;
  /** System series and series first seen after the index: held as any series. */
  held: HeldSeries[];
  inode: number;
  /** Where the follower goes on. */
  offset: number;
  malformed: { file: string; count: number; samples: MalformedLine[] }[];
}

interface Def {
  runId: string;
  phase: Phase;
  name: string;
}

export async function openStreamCatalog(
  spec: StreamSpec,
  runNames: RunNames,
  options: CatalogOptions,
): Promise<OpenedCatalog | undefined> {
  if (listSegments(spec.activePath).length > 0) return undefined;
  const fd = openIfExists(spec.activePath);
  if (fd === undefined) return undefined;
  try {
    const stat = fs.fstatSync(fd);
    const minSeries = options.minSeries ?? CATALOG_MIN_SERIES;
    let index: ScannedIndex | undefined;
    for (const candidate of indexCandidates(spec.activePath)) {
      // Sized up first from the block frames alone: an index of a few dozen series (the usual
      // run) is not read twice, here and by the index path.
      const framed = scanIndex(candidate, fd, 'none');
      if (framed === undefined) continue;
      const defBytes = framed.blocks.reduce((sum, block) => sum + block.defsLength, 0);
      if (defBytes < minSeries * MIN_DEF_BYTES) return undefined;
      index = scanIndex(candidate, fd);
      if (index !== undefined) break;
    }
    const last = index?.blocks.at(-1);
    if (index === undefined || last === undefined) return undefined;
    const wholeEnd = wholeLinesEnd(fd, stat.size);
    if (wholeEnd - last.resume > options.maxScanBytes) return undefined;
    return await build(spec, runNames, minSeries, index, fd, wholeEnd, stat.ino);
  } finally {
    fs.closeSync(fd);
  }
}

/** An array of numbers that grows as it is filled. */
class Column<T extends Uint8Array | Uint16Array | Uint32Array> {
  length = 0;
  constructor(public data: T) {}
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new (this.data.constructor as new (n: number) => T)(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  done(): T {
    return this.data.slice(0, this.length) as T;
  }
}

/** Names as they are defined (unsorted), one UTF-8 buffer: a million JS strings would take 50 MB. */
class RawNames {
  bytes = Buffer.alloc(1 << 20);
  readonly starts = new Column(new Uint32Array(1 << 16));
  constructor() {
    this.starts.push(0);
  }
  push(name: string): void {
    const end = this.starts.data[this.starts.length - 1] as number;
    const need = end + Buffer.byteLength(name);
    if (need > this.bytes.length) {
      const bigger = Buffer.alloc(Math.max(need, this.bytes.length * 2));
      this.bytes.copy(bigger, 0, 0, end);
      this.bytes = bigger;
    }
    this.bytes.write(name, end);
    this.starts.push(need);
  }
}

async function build(
  spec: StreamSpec,
  runNames: RunNames,
  minSeries: number,
  index: ScannedIndex,
  fd: number,
  wholeEnd: number,
  inode: number,
): Promise<OpenedCatalog | undefined> {
  const runIds: string[] = [];
  const runIndex = new Map<string, number>();
  const runOf = new Column(new Uint16Array(1 << 16));
  const flags = new Column(new Uint8Array(1 << 16));
  /** Chart name per series id (empty for system series, which are held). */
  const raw = new RawNames();
  const system = new Map<number, Def>();
  let broken = false;
  const runNumber = (runId: string): number => {
    let r = runIndex.get(runId);
    if (r === undefined) {
      r = runIds.length;
      runIds.push(runId);
      runIndex.set(runId, r);
    }
    return r;
  };
  for (const block of index.blocks)
    forEachDef(index.path, block, (id, runId, phase, name) => {
      if (id !== runOf.length) broken = true;
      runOf.push(runNumber(runId));
      if (phase === 'system') {
        system.set(id, { runId, phase, name });
        raw.push('');
        flags.push(0);
        return;
      }
      const prefixed = name.startsWith('eval/');
      raw.push(prefixed ? name.slice(5) : name);
      flags.push((phase === 'eval' ? FLAG_EVAL_PHASE : 0) | (prefixed ? FLAG_EVAL_PREFIX : 0));
    });
  const n = runOf.length;
  if (broken || runIds.length > 0xffff || n - system.size < minSeries) return undefined;

  // Level-0 records per series, and the last row each covers (rows after it are re-read).
  const counts = new Uint32Array(n);
  const covered = new Float64Array(n).fill(-1);
  const points = new Float64Array(n);
  forEachRecord(index.path, index.blocks, (d, o) => {
    const id = d[o + SERIES] as number;
    if (!(id >= 0 && id < n) || Number.isNaN(d[o + FIRST_STEP])) broken = true;
    else if (d[o + LEVEL] === 0) {
      counts[id]++;
      covered[id] = d[o + LAST_OFFSET] as number;
      points[id] += d[o + COUNT] as number;
    }
  });
  if (broken) return undefined;

  // Sorted by name (UTF-8 bytes), then by id; copied into one table in that order.
  const order = new Uint32Array(n - system.size);
  for (let id = 0, p = 0; id < n; id++) if (!system.has(id)) order[p++] = id;
  const rs = raw.starts.data;
  order.sort(
    (a, b) =>
      compareBytes(
        raw.bytes,
        rs[a] as number,
        rs[a + 1] as number,
        raw.bytes,
        rs[b] as number,
        rs[b + 1] as number,
      ) || a - b,
  );
  const text = Buffer.alloc(rs[n] as number);
  const starts = new Uint32Array(order.length + 1);
  order.forEach((id, p) => {
    starts[p + 1] =
      (starts[p] as number) +
      raw.bytes.copy(text, starts[p] as number, rs[id] as number, rs[id + 1] as number);
  });
  raw.bytes = Buffer.alloc(0);

  // The rows after the index: each series' rows past what its buckets cover.
  const fresh: Def[] = [];
  const freshIds = new Map<string, number>();
  const systemIds = new Map<string, number>();
  for (const [id, def] of system) systemIds.set(`${def.runId}\u0000${def.name}`, id);
  const find = (runId: string, phase: Phase, name: string): number => {
    if (phase === 'system') {
      const id = systemIds.get(`${runId}\u0000${name}`);
      if (id !== undefined) return id;
    } else {
      const prefixed = name.startsWith('eval/');
      const key = Buffer.from(prefixed ? name.slice(5) : name);
      const flag = (phase === 'eval' ? FLAG_EVAL_PHASE : 0) | (prefixed ? FLAG_EVAL_PREFIX : 0);
      const to = lowerBound(text, starts, key, true);
      for (let p = lowerBound(text, starts, key, false); p < to; p++) {
        const id = order[p] as number;
        if (flags.data[id] === flag && runIds[runOf.data[id] as number] === runId) return id;
      }
    }
    const key = `${runId}\u0000${phase}\u0000${name}`;
    let id = freshIds.get(key);
    if (id === undefined) {
      id = n + fresh.length;
      fresh.push({ runId, phase, name });
      freshIds.set(key, id);
      runOf.push(runNumber(runId));
      flags.push(0);
    }
    return id;
  };
  const tail = new TailBuckets();
  const malformed: MalformedLine[] = [];
  const lastEnd = index.blocks.at(-1)?.end ?? 0;
  const resume = index.blocks.at(-1)?.resume ?? 0;
  let processor: LineProcessor | undefined;
  const tables = { names: new NameTable(), runs: new NameTable() };
  const ids: number[][][] = [[], [], []];
  let stepless = false;
  const visitor: MetricVisitor = {
    scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number) {
      const byRun = (ids[phase] as number[][])[run + 1] ?? [];
      (ids[phase] as number[][])[run + 1] = byRun;
      let id = byRun[name];
      if (id === undefined) {
        id = find(run < 0 ? '' : tables.runs.name(run), PHASE_NAMES[phase], tables.names.name(name));
        byRun[name] = id;
      }
      if (typeof step === 'number' && Number.isNaN(step)) stepless = true;
      const offset = (processor as LineProcessor).lineStart;
      if (id < n && offset <= (covered[id] as number)) return;
      tail.add(id, Number(step), ts, value, offset);
      if (id < n) points[id]++;
    },
    malformed(line: MalformedLine) {
      // Those before the index's end are counted in its blocks already.
      if (line.offset >= lastEnd) malformed.push(resume === 0 ? line : { ...line, line: 0 });
    },
  };
  // A reader's last block carries its open buckets: their rows come after none of the index's.
  const state = index.blocks.at(-1)?.state?.open;
  for (let o = 0; state !== undefined && o < state.length; o += RECORD_COLUMNS) {
    if (state[o + LEVEL] !== 0) continue;
    tail.addBucket(state, o);
    points[state[o + SERIES] as number] += state[o + COUNT] as number;
  }
  if (wholeEnd > resume)
    await readMetricRecords(spec.activePath, visitor, tables, {
      fd,
      start: resume,
      end: wholeEnd,
      onProcessor: (p) => (processor = p),
    });
  // Rows without a step are placed by their count, which buckets cannot give.
  if (stepless) return undefined;

  const total = n + fresh.length;
  const locationStart = new Uint32Array(total + 1);
  for (let id = 0; id < n; id++)
    locationStart[id + 1] = (locationStart[id] as number) + (counts[id] as number);
  for (let id = n; id < total; id++) locationStart[id + 1] = locationStart[id] as number;
  const locations = new Float64Array(locationStart[n] as number);
  const fill = locationStart.slice(0, n);
  forEachRecord(index.path, index.blocks, (d, o, at) => {
    if (d[o + LEVEL] === 0) locations[fill[d[o + SERIES] as number]++ as number] = at;
  });

  if (runIds.length > 0xffff) return undefined;
  const runNameList = runIds.map((runId) => runNames.name(runId));
  tail.trim();
  const catalog = new StreamCatalog({
    activePath: spec.activePath,
    inode,
    end: wholeEnd,
    rank: spec.rank,
    indexPath: index.path,
    text,
    starts,
    ids: order,
    runOf: runOf.done(),
    flags: flags.done(),
    runIds,
    runNames: runNameList,
    locationStart,
    locations,
    tail,
  });
  // Each run's most-logged training series: its clock places system samples (run-clock.ts).
  const densest = new Map<string, { id: number; points: number }>();
  for (const id of order) {
    if ((flags.data[id] as number) & FLAG_EVAL_PHASE) continue;
    const run = runNameList[runOf.data[id] as number] as string;
    if ((points[id] as number) > (densest.get(run)?.points ?? 0))
      densest.set(run, { id, points: points[id] as number });
  }
  catalog.densest = densest;
  const held: HeldSeries[] = [];
  const hold = (id: number, def: Def): void => {
    held.push({ ...def, id, run: runNames.name(def.runId), state: catalog.state(id) });
  };
  for (const [id, def] of system) hold(id, def);
  fresh.forEach((def, i) => hold(n + i, def));
  const fromIndex = index.blocks.reduce((sum, block) => sum + block.malformedCount, 0);
  const samples = index.blocks.flatMap((block) => block.malformedSamples).concat(malformed);
  const count = fromIndex + malformed.length;
  return {
    catalog,
    held,
    inode,
    offset: wholeEnd,
    malformed: count > 0 ? [{ file: spec.activePath, count, samples: samples.slice(0, 5) }] : [],
  };
}
