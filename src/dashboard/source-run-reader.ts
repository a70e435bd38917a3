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
 *
 * A long first read runs in a worker thread (source-worker.ts) when the compiled worker exists:
 * the server goes on answering, and the NDJSON streams on updating, while a big run loads. The
 * worker sends back the run's series as buckets, the first few problems with a count of the rest,
 * and the reader's resume point; later reads (what the writer appends) are small and run here. A
 * run whose index leaves at most `catchUpBytes` to read is opened here, at once: starting a worker
 * costs more than such a read. A worker still reading when the reader closes is terminated.
 */
import fs from 'node:fs';
import type { MalformedLine, PhaseId } from '../ndjson/line/metric-visitor.js';
import { PHASE_NAMES } from '../ndjson/line/metric-visitor.js';
import { NameTable } from '../ndjson/line/name-table.js';
import { runPool, workersAvailable } from '../ndjson/worker-pool.js';
import type { RunSpec } from '../sources/discover-sources.js';
import { labelOf, type LiveRunReader, type RunInfo, type RunSink } from '../sources/run-source.js';
import { IndexTap } from '../sources/index-tap.js';
import { openIndexedRun, type IndexedRun, type LoadedRunIndex } from '../sources/indexed-run.js';
import type { BucketSeriesState } from './bucket-series.js';
import { INDEX_CATCH_UP_BYTES, INDEX_MIN_BYTES } from './index-backlog.js';
import { bucketStates } from './index-buckets.js';
import { RunStoreVisitor, type RunSeriesPart } from './run-store-visitor.js';
import type { SeriesStore } from './series-store.js';

const WORKER_URL = new URL('./source-worker.js', import.meta.url);

/** A writer quiet this long with a torn last record is taken to be gone, and the record reported. */
export const QUIET_MS = 30_000;

export interface SourceRunOptions {
  /** Runs smaller than this are read whole (every point exact); larger ones through their index. */
  indexMinBytes?: number;
  env?: NodeJS.ProcessEnv;
  onWarning?: (message: string) => void;
  /** Read the run the first time in a worker thread (default: when the compiled worker exists). */
  worker?: boolean;
  /**
   * A run whose index leaves at most this many bytes past it is opened in this thread, not in a
   * worker (default INDEX_CATCH_UP_BYTES, the bound NDJSON streams are brought up to date within).
   */
  catchUpBytes?: number;
  /**
   * Polls wait for the worker's first read (the dashboard's first round: the first page shows
   * complete charts); otherwise they return at once until it is done (a run found later).
   */
  waitForFirstRead?: boolean;
}

/** A run's first read, done in a worker thread, as plain data. */
export interface FirstRead {
  parts: RunSeriesPart[];
  /** The reader's resume point (indexed-run.ts `save`). */
  state: unknown;
  /** The first MALFORMED_SAMPLES (run-index/index-builder.ts) problems the worker found (a message across threads is bounded)… */
  problems: Array<{ file: string; line: MalformedLine }>;
  /** …and how many more it found. */
  problemsLeftOut: number;
  indexed: boolean;
  bytesRead: number;
  read: boolean;
}

export interface FirstReadTask {
  index: number;
  spec: RunSpec;
  options: Pick<SourceRunOptions, 'indexMinBytes' | 'env'>;
}

/** What the first read starts from: the run's files now, their size, and an index that describes them. */
interface Opening {
  files: string[];
  bytes: number;
  index: LoadedRunIndex | undefined;
}

export class SourceRunReader {
  private readonly reader: LiveRunReader;
  /** The run's name in the store, once its first scalar is read. */
  private label: string | undefined;
  /** @internal */
  readonly run: IndexedRun;
  /** The worker's first read while it runs, then what it found, until a poll takes it in. */
  private firstRead: Promise<void> | undefined;
  private firstResult: FirstRead | undefined;
  private firstError: unknown;
  private workerBytes = 0;
  private workerFailed = false;
  /** Stops the worker's first read when the reader closes. */
  private readonly stopWorker = new AbortController();
  /** Whether the first read was sent to a worker thread. */
  firstReadInWorker = false;
  /** @internal the worker's first read answers from these */
  readonly visitor: RunStoreVisitor;
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
    private readonly onMalformed: (file: string, line: MalformedLine) => void,
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

  /** The run's files and size now; for a large run, its index when one still describes the files. */
  private open(): Opening {
    const files = this.run.files();
    let bytes = 0;
    for (const file of files) bytes += fs.statSync(file).size;
    const large = bytes >= (this.options.indexMinBytes ?? INDEX_MIN_BYTES);
    return { files, bytes, index: large ? this.run.loadIndex(files, this.options.env) : undefined };
  }

  /** Whether the first read is short enough to do here: an index covers all but a little of the run. */
  private shortRead(opening: Opening): boolean {
    if (opening.index === undefined) return false;
    return opening.bytes - opening.index.indexedBytes <= (this.options.catchUpBytes ?? INDEX_CATCH_UP_BYTES);
  }

  /** A large run's first read goes on from its index when one still describes its files. */
  private openFromIndex(opening: Opening): void {
    if (opening.bytes < (this.options.indexMinBytes ?? INDEX_MIN_BYTES)) {
      this.tap.finish(0);
      return;
    }
    const index = opening.index;
    if (index === undefined) return;
    this.run.resume(index.state);
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
    return this.workerBytes + this.run.bytesRead;
  }

  /** Whether the first read is running in a worker thread now (or done, and not yet in the store). */
  get loading(): boolean {
    return this.firstRead !== undefined;
  }

  private get settled(): boolean {
    return this.firstResult !== undefined || this.firstError !== undefined;
  }

  /** Starts the first read in a worker thread. */
  private startWorker(): void {
    const { indexMinBytes, env } = this.options;
    const task: FirstReadTask = { index: 0, spec: this.spec, options: { indexMinBytes, env } };
    this.firstReadInWorker = true;
    const signal = this.stopWorker.signal;
    this.firstRead = runPool<FirstReadTask, FirstRead>(WORKER_URL, [task], 1, undefined, false, signal).then(
      ([result]) => {
        this.firstResult = result;
      },
      (error: unknown) => {
        this.firstError = error ?? new Error('the worker thread failed');
      },
    );
  }

  /** Takes in the worker's first read: its series, problems and the reader's resume point. */
  private adoptFirstRead(first: FirstRead): boolean {
    // The worker kept the index: this thread's reader follows the run, it does not index it.
    this.tap.finish(0);
    this.run.resume(first.state);
    for (const part of first.parts)
      this.visitor.adopt(part.phase, this.names.idOfString(part.name), part.state);
    for (const problem of first.problems) {
      this.store.malformed++;
      this.onMalformed(problem.file, problem.line);
    }
    if (first.problemsLeftOut > 0) {
      // Counted in full; told as one line, as the run index tells the malformed lines it counted.
      this.store.malformed += first.problemsLeftOut;
      this.onMalformed(this.spec.path, {
        line: 0,
        offset: 0,
        field: 'run',
        reason: `${first.problemsLeftOut} more problems not listed (the first ${first.problems.length} are)`,
      });
    }
    this.indexed = first.indexed;
    this.workerBytes = first.bytesRead;
    return first.read;
  }

  /** The first read in this thread: from the index when there is one, then what is past it. */
  private async readFirst(opening = this.open()): Promise<boolean> {
    this.openFromIndex(opening);
    const read = (await this.reader.poll()) || this.indexed;
    this.keepIndex();
    return read;
  }

  /** What a poll reads: the first read (here or from the worker), then what is new. */
  private async readNew(): Promise<boolean> {
    if (!this.opened) {
      this.opened = true;
      const worker = !this.workerFailed && (this.options.worker ?? workersAvailable(WORKER_URL));
      if (!worker) return this.readFirst();
      const opening = this.open();
      if (this.shortRead(opening)) return this.readFirst(opening);
      this.startWorker();
    }
    if (this.firstRead !== undefined) {
      if (!this.settled && this.options.waitForFirstRead !== true) return false;
      await this.firstRead;
      this.firstRead = undefined;
      const error = this.firstError;
      const result = this.firstResult;
      this.firstError = undefined;
      this.firstResult = undefined;
      if (result === undefined) {
        // Closed while the worker read: nothing more is wanted of this run.
        if (this.stopWorker.signal.aborted) return false;
        // Read it here the next time: the worker could not (the error says why).
        this.opened = false;
        this.workerFailed = true;
        throw error;
      }
      return this.adoptFirstRead(result) || (await this.reader.poll());
    }
    return this.reader.poll();
  }

  get info(): RunInfo {
    return this.reader.info;
  }

  async poll(): Promise<boolean> {
    const read = await this.readNew();
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
    this.stopWorker.abort(new Error(`the dashboard stopped while ${this.spec.path} was being read`));
    return this.reader.close();
  }
}
