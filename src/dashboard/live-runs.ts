/**
 * Keeps the store current: finds streams under the inputs (again every few seconds, for runs and
 * ranks that start later), polls each stream's reader often enough that an appended line reaches
 * the page within a second, and tells subscribers (the server-sent-event clients) what changed.
 */
import type { MalformedLine } from '../ndjson/line/metric-visitor.js';
import { discoverRuns } from '../sources/discover-sources.js';
import type { SourceKind } from '../sources/run-source.js';
import { discoverStreams } from './discover.js';
import type { BacklogOptions } from './read-backlog.js';
import { IndexBuildQueue } from './index-build-queue.js';
import { SeriesStore } from './series-store.js';
import type { SourceRunReader } from './source-run-reader.js';
import { StreamReader } from './stream-reader.js';
import { ZoomIndexCache } from './zoom/index-cache.js';
import { errorText } from '../errors.js';

/** Stat-polling period: well under the 1 s an appended line may take to reach the page. */
export const POLL_MS = 200;
/** Looking for new files walks folders: less often. */
export const DISCOVER_MS = 2000;

export interface Change {
  version: number;
  metrics: string[];
  structure: boolean;
  /** More charts changed than an event names (MAX_CHANGED_NAMES): the page refetches what it shows. */
  more: boolean;
}

/** How the run the page follows ended: sent once, after its last rows, before the server closes. */
export interface Finished {
  /** The run's outcome: the trainer's exit code (run), the demo's or tail's own. */
  exitCode: number;
}

/**
 * How long a finished run's server waits for open pages to fetch its last rows and hang up before
 * it closes anyway: a page that stopped reading (a suspended tab) cannot hold a run's exit.
 */
export const FINISH_GRACE_MS = 5000;

export interface LiveRunsOptions {
  /** Run folders, files or globs; a function is asked again at every discovery (streams opened later). */
  inputs: readonly string[] | (() => readonly string[]);
  onMalformed?: (file: string, line: MalformedLine) => void;
  pollMs?: number;
  /** How a big backlog is read on start (worker threads, from what size). */
  backlog?: BacklogOptions;
  discoverMs?: number;
  /** Only this kind of run (`--source`); undefined: NDJSON streams, TensorBoard and W&B runs alike. */
  source?: SourceKind;
}

export class LiveRuns {
  readonly store = new SeriesStore();
  /**
   * The drag-zoom's index buckets (bounded: ZOOM_INDEX_CACHE_BYTES), filled with the indexes the
   * streams were opened from, so the first zoom of a page reads no index again.
   */
  readonly zoomIndex = new ZoomIndexCache();
  /** Run indexes built beside streams first read without one, one at a time (index-build-queue.ts). */
  readonly indexBuilds = new IndexBuildQueue();
  /** Event-stream clients dropped for leaving too much unread (http-handler.ts). */
  droppedClients = 0;
  private readonly readers = new Map<string, StreamReader>();
  /** TensorBoard and W&B runs, by folder (or file), polled beside the NDJSON streams. */
  private readonly runReaders = new Map<string, SourceRunReader>();
  private readonly listeners = new Set<(change: Change) => void>();
  private readonly finishListeners = new Set<(finished: Finished) => void>();
  /** Set once the run ended: pages that connect later are told at once. */
  finished: Finished | undefined;
  /** Event-stream clients connected now (http-handler.ts counts them in and out). */
  private clients = 0;
  private readonly clientsGone = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastDiscover = 0;
  private polling: Promise<void> | undefined;
  private stopped = false;
  /** Set by stop(): the readers are closed, and no new one is made. */
  private closed = false;
  /** The TensorBoard and W&B run reader's module, loaded with the first such run. */
  private sourceReaders: Promise<typeof import('./source-run-reader.js')> | undefined;
  /** Set once the first round is done: runs found after it load in the background. */
  private started = false;

  constructor(private readonly options: LiveRunsOptions) {}

  /** TensorBoard and W&B runs (folders or files) whose first read is running in a worker thread now. */
  loadingRuns(): string[] {
    return [...this.runReaders].flatMap(([path, reader]) => (reader.loading ? [path] : []));
  }

  /** Reads everything there is now (the first page shows complete charts), then keeps polling. */
  async start(): Promise<void> {
    // The index builds of streams read without one wait for this first read: its worker threads
    // and a build's together passed the 300 MB goal on a first open of 100 runs (index-build-queue.ts).
    this.indexBuilds.hold();
    try {
      await this.tick();
    } finally {
      this.indexBuilds.release();
    }
    this.started = true;
    this.schedule();
  }

  /** The inputs as given (asked again when they are a function). */
  inputList(): string[] {
    return [...(typeof this.options.inputs === 'function' ? this.options.inputs() : this.options.inputs)];
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Told once, when the run ends (see finish). */
  onFinished(listener: (finished: Finished) => void): () => void {
    this.finishListeners.add(listener);
    return () => this.finishListeners.delete(listener);
  }

  /** An event-stream client connected; the returned function is called when it hangs up. */
  clientConnected(): () => void {
    this.clients++;
    let gone = false;
    return () => {
      if (gone) return;
      gone = true;
      this.clients--;
      if (this.clients === 0) for (const resolve of this.clientsGone) resolve();
    };
  }

  /**
   * The writer has exited and its files are closed: reads every stream to its end (a last line
   * with no newline included), publishes that last change, then tells every page the run ended.
   * Resolves once every page has hung up (a page does after fetching the last rows) or after
   * `graceMs`, whichever comes first; the caller then closes the server.
   */
  async finish(finished: Finished, graceMs = FINISH_GRACE_MS): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.stopped = true;
    // A round in flight may have read before the last rows were written: wait, then read again.
    while (this.polling !== undefined) await this.polling;
    this.lastDiscover = 0;
    await this.tick(async () => {
      for (const reader of this.readers.values()) await reader.finish();
    });
    this.finished = finished;
    const gone =
      this.clients === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, graceMs);
            this.clientsGone.add(() => {
              clearTimeout(timer);
              resolve();
            });
          });
    for (const listener of this.finishListeners) listener(finished);
    await gone;
    this.clientsGone.clear();
  }

  stop(): void {
    this.stopped = true;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    // Read handles only: closing one cannot lose data, and a failure leaves nothing to do but say so.
    for (const reader of [...this.readers.values(), ...this.runReaders.values()])
      reader.close().catch((error: unknown) => process.stderr.write(`dashboard: ${errorText(error)}\n`));
  }

  /** One round: discover (when due), poll every reader, publish what changed. */
  tick(last?: () => Promise<void>): Promise<void> {
    if (this.polling !== undefined) return this.polling;
    this.polling = this.round(last).finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async round(last: (() => Promise<void>) | undefined): Promise<void> {
    if (Date.now() - this.lastDiscover >= (this.options.discoverMs ?? DISCOVER_MS)) {
      this.lastDiscover = Date.now();
      const inputs = typeof this.options.inputs === 'function' ? this.options.inputs() : this.options.inputs;
      const runs = discoverRuns(inputs, this.options.source).filter(
        (spec) => !this.runReaders.has(spec.path),
      );
      if (runs.length > 0) {
        // TensorBoard and W&B readers (a third of the dashboard's modules) load with the first
        // such run: a dashboard of NDJSON streams starts without them.
        const { SourceRunReader } = await (this.sourceReaders ??= import('./source-run-reader.js'));
        // Stopped while they loaded: a reader made now would never be closed.
        if (this.closed) return;
        for (const spec of runs) {
          const onMalformed = this.options.onMalformed ?? (() => undefined);
          // The first page waits for the runs there are at start; a run found later loads while
          // the page and the other runs go on (in a worker thread, see source-run-reader.ts).
          const options = { waitForFirstRead: !this.started };
          this.runReaders.set(
            spec.path,
            new SourceRunReader(spec, this.store, onMalformed, undefined, undefined, options),
          );
        }
      }
      const streams = this.options.source === undefined || this.options.source === 'ndjson';
      for (const spec of streams ? discoverStreams(inputs) : []) {
        if (!this.readers.has(spec.activePath)) {
          this.readers.set(
            spec.activePath,
            new StreamReader(
              spec,
              this.store,
              this.options.onMalformed,
              this.options.backlog,
              this.zoomIndex,
              this.indexBuilds,
            ),
          );
        }
      }
    }
    for (const reader of this.readers.values()) await reader.poll();
    for (const reader of this.runReaders.values()) await reader.poll();
    await last?.();
    const changes = this.store.takeChanges();
    if (changes !== undefined) {
      const change = { version: this.store.version, ...changes };
      for (const listener of this.listeners) listener(change);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick().then(
        () => this.schedule(),
        (error: unknown) => {
          process.stderr.write(`dashboard: reading streams failed: ${errorText(error)}\n`);
          this.schedule();
        },
      );
    }, this.options.pollMs ?? POLL_MS);
    this.timer.unref();
  }
}
