/**
 * A TensorBoard or W&B run in the dashboard: its run reader (../sources) feeding the series store,
 * polled beside the NDJSON StreamReaders. A run that restarted is read again (the reader resets
 * its series first); a run that stops growing with a torn last record has it reported once the
 * writer has been quiet for QUIET_MS.
 */
import type { MalformedLine, MetricVisitor, PhaseId } from '../ndjson/line/metric-visitor.js';
import { PHASE_NAMES } from '../ndjson/line/metric-visitor.js';
import { NameTable } from '../ndjson/line/name-table.js';
import type { RunSpec } from '../sources/discover-sources.js';
import { labelOf, type LiveRunReader, type RunInfo, type RunSink } from '../sources/run-source.js';
import { TfeventsRunReader } from '../sources/tfevents/tfevents-run-reader.js';
import { WandbRunReader } from '../sources/wandb/wandb-run-reader.js';
import type { BucketSeries } from './bucket-series.js';
import { chartPlace } from './chart-key.js';
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

export class SourceRunReader {
  private readonly reader: LiveRunReader;
  /** The run's name in the store, once its first scalar is read. */
  private label: string | undefined;
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
  ) {
    const names = new NameTable();
    // The run's name is fixed by its first scalar: a W&B run's record (name and id) comes before it.
    const visitor = new RunStoreVisitor(store, names, () => (this.label ??= labelOf(this.reader.info)));
    const sink: RunSink = {
      visitor,
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
      reset: () => visitor.clear(),
    };
    this.reader =
      spec.kind === 'tfevents'
        ? new TfeventsRunReader({ path: spec.path, name: spec.name, sink })
        : new WandbRunReader({ path: spec.path, name: spec.name, sink });
  }

  get info(): RunInfo {
    return this.reader.info;
  }

  async poll(): Promise<boolean> {
    const read = await this.reader.poll();
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
