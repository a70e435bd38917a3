/**
 * A TensorBoard or W&B run in the dashboard: its run reader (../sources) feeding the series store,
 * polled beside the NDJSON StreamReaders. A run that restarted is read again (the reader resets
 * its series first); a run that stops growing with a torn last record has it reported once the
 * writer has been quiet for QUIET_MS.
 *
 * A large TensorBoard or W&B run is opened from its run index (src/sources/source-index.ts) when
 * one still describes its files: the index's buckets enter the store and the reader goes on
 * after the indexed bytes. The first read (or what is new since the index) builds the index again,
 * so the next open reads only what was written since.
 */
import fs from 'node:fs';
import type { MalformedLine, MetricVisitor, PhaseId } from '../ndjson/line/metric-visitor.js';
import { PHASE_NAMES } from '../ndjson/line/metric-visitor.js';
import { NameTable } from '../ndjson/line/name-table.js';
import type { RunSpec } from '../sources/discover-sources.js';
import { labelOf, type LiveRunReader, type RunInfo, type RunSink } from '../sources/run-source.js';
import { IndexTap } from '../sources/index-tap.js';
import { openIndexedRun, type IndexedRun } from '../sources/indexed-run.js';
import type { BucketSeries, BucketSeriesState } from './bucket-series.js';
import { chartPlace } from './chart-key.js';
import { bucketStates, INDEX_MIN_BYTES } from './index-backlog.js';
import type { SeriesStore } from './series-store.js';

/** A writer quiet this long with a torn last record is taken to be gone, and the record reported. */
export const QUIET_MS = 30_000;

class RunStoreVisitor implements MetricVisitor {
  private readonly cache: (BucketSeries | undefined)[][] = [[], [], []];
  private readonly metric: string[][] = [[], [], []];
  private readonly made: { series: BucketSeries; metric: string }[] = [];

  constructor(
    private readonly store: SeriesStore,
    private readonly names: NameTable,
    private readonly run: () => string,
  ) {}

  scalar(phase: PhaseId, name: number, _run: number, step: number | bigint, ts: number, value: number): void {
    let series = this.cache[phase]?.[name];
    if (series === undefined) {
      const text = this.names.name(name);
      series = this.store.series(this.run(), 0, PHASE_NAMES[phase], text);
      const metric = chartPlace(PHASE_NAMES[phase], text).metric;
      (this.cache[phase] as BucketSeries[])[name] = series;
      (this.metric[phase] as string[])[name] = metric;
      this.made.push({ series, metric });
    }
    const x = typeof step === 'bigint' ? Number(step) : Number.isNaN(step) ? series.points : step;
    series.add(x, ts, value);
    this.store.touch((this.metric[phase] as string[])[name] as string);
  }

  /** Index buckets of a series, before its first scalar: a restart clears them like the rest. */
  adopt(phase: PhaseId, name: number, state: BucketSeriesState): void {
    const text = this.names.name(name);
    const series = this.store.series(this.run(), 0, PHASE_NAMES[phase], text);
    const metric = chartPlace(PHASE_NAMES[phase], text).metric;
    (this.cache[phase] as BucketSeries[])[name] = series;
    (this.metric[phase] as string[])[name] = metric;
    this.made.push({ series, metric });
    series.append(state);
    this.store.touch(metric);
  }

  malformed(): void {
    // Run readers report bad input through their sink, with file and byte offset.
  }

  clear(): void {
    for (const { series, metric } of this.made) {
      series.clear();
      this.store.touch(metric);
    }
  }
}

export interface SourceRunOptions {
  /** Runs smaller than this are read whole (every point exact); larger ones through their index. */
  indexMinBytes?: number;
  env?: NodeJS.ProcessEnv;
  onWarning?: (message: string) => void;
}

export class SourceRunReader {
  private readonly reader: LiveRunReader;
  /** The run's name in the store, once its first scalar is read. */
  private label: string | undefined;
  private readonly run: IndexedRun;
  private readonly visitor: RunStoreVisitor;
  private readonly tap: IndexTap;
  private readonly names = new NameTable();
  private opened = false;
  /** Whether the first read went on from an index (and how many bytes it read past it). */
  indexed = false;
  private lastRead = Date.now();
  private finished = false;
  /** Not-shown tags already told. */
  private told = 0;

  constructor(
    readonly spec: RunSpec,
    private readonly store: SeriesStore,
    onMalformed: (file: string, line: MalformedLine) => void,
    private readonly quietMs = QUIET_MS,
    /** Told once per tag or key the dashboard does not draw (histograms, text, strings…). */
    private readonly notShown: (run: string, key: string, kind: string) => void = (run, key, kind) =>
      process.stderr.write(`dashboard: ${run}: ${key} holds ${kind} values, which are not drawn\n`),
    private readonly options: SourceRunOptions = {},
  ) {
    const names = this.names;
    // The run's name is fixed by its first scalar: a W&B run's record (name and id) comes before it.
    const visitor = new RunStoreVisitor(store, names, () => (this.label ??= labelOf(this.reader.info)));
    this.visitor = visitor;
    const tap = new IndexTap(visitor, names, () => this.run.position);
    this.tap = tap;
    const sink: RunSink = {
      visitor: tap,
      names,
      run: -1,
      problem: (problem) => {
        store.malformed++;
        onMalformed(problem.file, {
          line: problem.record,
          offset: problem.offset,
          field: `byte offset ${problem.offset}`,
          reason: problem.reason,
        });
      },
      reset: () => {
        visitor.clear();
        tap.reset();
      },
    };
    this.run = openIndexedRun(spec, sink);
    this.reader = this.run.reader;
  }

  /** A large run's first read goes on from its index when one still describes its files. */
  private openFromIndex(): void {
    const files = this.run.files();
    let bytes = 0;
    for (const file of files) bytes += fs.statSync(file).size;
    if (bytes < (this.options.indexMinBytes ?? INDEX_MIN_BYTES)) {
      this.tap.finish(0);
      return;
    }
    const index = this.run.resumeFromIndex(files, this.options.env);
    if (index === undefined) return;
    const states = bucketStates(index.defs, [index.records], new Float64Array(0));
    index.defs.forEach((def, id) => {
      const state = states[id] as BucketSeriesState;
      if (state.points === 0) return;
      const phase = PHASE_NAMES.indexOf(def.phase as (typeof PHASE_NAMES)[number]) as PhaseId;
      this.visitor.adopt(phase, this.names.idOfString(def.name), state);
    });
    this.tap.restore(index.defs, index.records);
    this.indexed = true;
  }

  /** After the first read: the index is written again when the read brought anything new. */
  private keepIndex(): void {
    const built = this.tap.finish(this.run.position);
    if (built === undefined || (this.indexed && this.run.bytesRead === 0)) return;
    this.run.writeIndex(
      built,
      this.options.env,
      this.options.onWarning ?? ((message) => process.stderr.write(`dashboard: ${message}\n`)),
    );
  }

  /** Run bytes read so far (a run opened from its index reads only what is past it). */
  get bytesRead(): number {
    return this.run.bytesRead;
  }

  get info(): RunInfo {
    return this.reader.info;
  }

  async poll(): Promise<boolean> {
    const first = !this.opened;
    this.opened = true;
    if (first) this.openFromIndex();
    const read = (await this.reader.poll()) || (first && this.indexed);
    if (first) this.keepIndex();
    const info = this.reader.info;
    if (info.notShown.size > this.told) {
      [...info.notShown].slice(this.told).forEach(([key, kind]) => this.notShown(labelOf(info), key, kind));
      this.told = info.notShown.size;
    }
    // A W&B run's exit record: the run ended, with this code.
    if (info.exitCode !== undefined && this.label !== undefined)
      this.store.runEnded(this.label, info.exitCode);
    const now = Date.now();
    if (read) {
      this.lastRead = now;
      this.finished = false;
    } else if (!this.finished && now - this.lastRead >= this.quietMs) {
      this.finished = true;
      this.reader.finish();
    }
    return read;
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}
