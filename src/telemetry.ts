/**
 * The training-facing facade: start telemetry from a TrainConfig, `log()` scalars per step, open
 * evaluation streams, save checkpoint manifests, `flush()` and `shutdown()`.
 *
 * The facade only routes. File sinks get rows through the RowPipeline (one flush clock); the
 * aggregating backends (Prometheus, OTLP) read OTel instruments on the backend MeterProvider,
 * with no step label, so their cardinality stays bounded. Which sinks exist is the registry's
 * business (src/exporters/registry.ts). README "Architecture" walks one `log()` call through.
 */
import { diag, type Meter } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import {
  resolveEvaluationConfig,
  resolveTrainConfig,
  type EvaluationConfig,
  type ResolvedTrainConfig,
  type TrainConfig,
} from './config.js';
import { DEFAULT_SINKS } from './exporters/registry.js';
import { secondsHistogramViews, STEP_DURATION_BUCKETS_SECONDS } from './instruments/histogram-views.js';
import { LastValueGauges } from './instruments/last-value-gauges.js';
import { METER_TRAINING } from './instruments/names.js';
import { checkStep, nextStep, type Phase, type Step, type StepRow } from './instruments/step-row.js';
import { TrainingInstruments } from './instruments/training-instruments.js';
import { writeRunManifest } from './manifest/index.js';
import { installExitHooks } from './pipeline/exit-hooks.js';
import { SYSTEM_STREAM, TRAIN_STREAM } from './pipeline/row.js';
import { RowPipeline } from './pipeline/row-pipeline.js';
import type { OutputPaths, SinkContext, SinkDefinition } from './pipeline/sink-definition.js';
import { defaultWarn, SinkHealth, type WarnFn } from './pipeline/sink-health.js';
import { StepTimeAccumulator } from './pipeline/step-time-accumulator.js';
import { assembleSinks, openStreamSinks, type AssembledSinks } from './runtime/assemble-sinks.js';
import { EvaluationStream } from './runtime/evaluation-stream.js';
import { buildResource } from './runtime/resource.js';
import { toColumns } from './runtime/row-builder.js';
import { startSystemSampler, type RunningSampler } from './runtime/sampler-wiring.js';
import { nowSeconds, type LogOptions, type Scalars } from './runtime/scalars.js';
import type { SystemSampler } from './system/system-sampler.js';

export { EvaluationStream } from './runtime/evaluation-stream.js';
export { nowSeconds } from './runtime/scalars.js';
export type { LogOptions, Scalars } from './runtime/scalars.js';
export type { OutputPaths } from './pipeline/sink-definition.js';

export interface StartOptions {
  /** Environment to read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where degradation warnings go (default process.emitWarning). */
  warn?: WarnFn;
  /** Where informational lines go, e.g. the /metrics URL (default: stderr). */
  info?: (line: string) => void;
  /** Phases the main NDJSON stream holds (default train + system). The bridge, whose trainer
   * already wrote the train stream, keeps only system samples there. */
  ndjsonPhases?: Phase[];
  /** Root of the process tree the system sampler watches (default: this process). */
  watchPid?: number;
  /** The sinks to open (default DEFAULT_SINKS); add your own with `[...DEFAULT_SINKS, mine]`. */
  sinks?: readonly SinkDefinition[];
}

export class Telemetry {
  readonly config: ResolvedTrainConfig;
  readonly health: SinkHealth;
  readonly resource: Resource;
  readonly paths: OutputPaths;
  /** Unix seconds when the run started. */
  readonly startTime: number;
  private readonly pipeline: RowPipeline;
  private readonly context: SinkContext;
  private readonly streamOpeners: SinkDefinition[];
  private readonly backendProvider: MeterProvider | undefined;
  private readonly training: TrainingInstruments | undefined;
  private readonly evalStreams = new Set<string>();
  private readonly warn: WarnFn;
  private readonly removeExitHooks: (() => void) | undefined;
  private nextTrainStep: Step | undefined = 0;
  private lastTrainStep: Step | undefined;
  private lastTrainTs: number | undefined;
  private running: RunningSampler | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private badInputWarned = false;
  private droppedAfterShutdown = 0;

  private constructor(context: SinkContext, sinks: AssembledSinks, warn: WarnFn, resource: Resource) {
    this.context = context;
    this.config = context.config;
    this.health = context.health;
    this.startTime = context.startTime;
    this.resource = resource;
    this.warn = warn;
    this.paths = sinks.paths;
    this.streamOpeners = sinks.streamOpeners;
    this.pipeline = new RowPipeline({
      flushIntervalMs: Math.round(this.config.flushInterval * 1000),
      health: this.health,
      stepTimes: new StepTimeAccumulator(STEP_DURATION_BUCKETS_SECONDS),
    });
    for (const sink of sinks.rowSinks) this.pipeline.add(sink);
    if (sinks.readers.length > 0) {
      this.backendProvider = new MeterProvider({
        resource,
        readers: sinks.readers,
        views: secondsHistogramViews(),
      });
      this.training = new TrainingInstruments({
        meter: this.backendProvider.getMeter(METER_TRAINING),
        gauges: context.metricProducers[0] as LastValueGauges,
        health: this.health,
        maxScalarNames: this.config.maxScalarNames,
        warn,
      });
    }
    if (this.config.installExitHandlers) {
      this.removeExitHooks = installExitHooks({
        shutdown: (exitCode) => this.shutdown(exitCode),
        flushSync: (exitCode) => this.exitSync(exitCode),
      });
    }
  }

  /** Validates the config and every enabled sink, opens them, and returns the running telemetry. */
  static async start(config: TrainConfig = {}, options: StartOptions = {}): Promise<Telemetry> {
    const env = options.env ?? process.env;
    const resolved = resolveTrainConfig(config, env);
    const warn = options.warn ?? defaultWarn;
    const context: SinkContext = {
      config: resolved,
      env,
      health: new SinkHealth(warn),
      info: options.info ?? defaultInfo,
      startTime: nowSeconds(),
      trainStreams: (options.ndjsonPhases ?? ['train', 'system']).map((phase) =>
        phase === 'system' ? SYSTEM_STREAM : phase === 'train' ? TRAIN_STREAM : phase,
      ),
      // Scalar gauges reach both backends through one producer (faster to scrape than SDK observables).
      metricProducers: [new LastValueGauges({ scope: { name: METER_TRAINING } })],
    };
    const resource = buildResource(resolved, env);
    const sinks = await assembleSinks(options.sinks ?? DEFAULT_SINKS, context);
    const telemetry = new Telemetry(context, sinks, warn, resource);
    telemetry.running = await startSystemSampler({
      config: resolved,
      health: context.health,
      warn,
      meter: telemetry.meter,
      pid: options.watchPid,
      onSample: (sample) => telemetry.recordSystem(sample),
    });
    return telemetry;
  }

  /** The meter of the backend provider, for user-defined instruments (undefined without backends). */
  get meter(): Meter | undefined {
    return this.backendProvider?.getMeter(METER_TRAINING);
  }

  /** Logs training scalars for one step. Never throws; returns false when the row was not accepted. */
  log(values: Scalars, options: LogOptions = {}): boolean {
    const step = options.step ?? this.nextTrainStep;
    const accepted = step !== undefined && this.record(TRAIN_STREAM, 'train', step, values);
    if (accepted && options.commit) this.pipeline.commit();
    return accepted;
  }

  /** Opens an evaluation stream: same schema, its own file, `tags.phase = "eval"`. */
  evaluation(config: EvaluationConfig = {}): EvaluationStream {
    const { metricsFilename } = resolveEvaluationConfig(config, this.config, this.context.env);
    if (!this.evalStreams.has(metricsFilename) && !this.shutdownPromise) {
      const stream = { id: metricsFilename, path: metricsFilename, index: this.evalStreams.size };
      this.evalStreams.add(metricsFilename);
      for (const sink of openStreamSinks(this.streamOpeners, this.context, stream, this.paths))
        this.pipeline.add(sink);
    }
    return new EvaluationStream(this, metricsFilename);
  }

  /** @internal Records an evaluation row for one stream (EvaluationStream calls this). */
  recordEval(stream: string, values: Scalars, step: Step): boolean {
    return this.record(stream, 'eval', step, values);
  }

  /**
   * Replays a row that was logged elsewhere (the bridge): its own phase, step and timestamp.
   * Returns false when the row was refused (bad step, or after shutdown).
   */
  ingest(row: StepRow): boolean {
    const step = checkStep(row.step);
    if (step === undefined || this.shutdownPromise) return this.refuse(step === undefined, row.step);
    const stream = row.phase === 'system' ? SYSTEM_STREAM : row.phase === 'train' ? TRAIN_STREAM : 'eval';
    this.accept({ stream, phase: row.phase, step, ts: row.ts, names: row.names, values: row.values });
    return true;
  }

  /** @internal Records a system sample: one row of flat keys (docs/system-keys.md). */
  recordSystem(sample: { ts: number; seq: number; values: Readonly<Record<string, number>> }): void {
    if (this.shutdownPromise) return;
    const names = Object.keys(sample.values);
    const values = names.map((name) => sample.values[name] as number);
    this.pipeline.push({
      stream: SYSTEM_STREAM,
      phase: 'system',
      step: sample.seq,
      ts: sample.ts,
      names,
      values,
    });
  }

  /**
   * Writes `run_manifest.json` beside a checkpoint (best effort: resolves to its path, or undefined
   * when it could not be written; never rejects). With `archiveMetrics`, the NDJSON streams are
   * closed as segments first and placed beside the checkpoint, listed with their sha256.
   */
  async checkpointSaved(
    checkpointPath: string,
    options: { step?: Step; sha256?: boolean; archiveMetrics?: boolean; envKeys?: string[] } = {},
  ): Promise<string | undefined> {
    const metricsFiles: string[] = [];
    if (options.archiveMetrics) {
      this.pipeline.flushSync();
      for (const sink of this.pipeline.sinkList)
        metricsFiles.push(...((await sink.archiveSegments?.()) ?? []));
    }
    const written = await writeRunManifest(checkpointPath, {
      step: options.step ?? this.lastTrainStep,
      runId: this.config.runId,
      sha256: options.sha256 ?? false,
      archiveMetrics: options.archiveMetrics ?? false,
      metricsFiles,
      envKeys: options.envKeys,
      env: this.context.env,
      warn: this.warn,
    });
    if (written) (this.paths.manifests ??= []).push(written);
    return written;
  }

  /** Points the system sampler at another process tree (the bridge's child). */
  watchProcess(pid: number | undefined): void {
    if (pid !== undefined) this.running?.sampler.watch(pid);
  }

  /** The system sampler, when one runs (for its GPU list and latest sample). */
  get systemSampler(): SystemSampler | undefined {
    return this.running?.sampler;
  }

  /** Writes everything logged so far to the file sinks (bytes handed to the kernel). Never rejects. */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  /** Flushes and closes every sink; `exitCode` is the run's outcome (W&B exit record). Never rejects. */
  shutdown(exitCode = 0): Promise<void> {
    this.shutdownPromise ??= this.doShutdown(exitCode);
    return this.shutdownPromise;
  }

  /** Rows refused because they arrived after shutdown(). */
  get rowsDroppedAfterShutdown(): number {
    return this.droppedAfterShutdown;
  }

  /** Whether the file pipeline runs a flush timer (false with flushInterval 0). */
  get hasFlushTimer(): boolean {
    return this.pipeline.hasTimer;
  }

  private async doShutdown(exitCode: number): Promise<void> {
    this.removeExitHooks?.();
    this.running?.stop();
    await this.pipeline.close({ exitCode });
    try {
      await this.backendProvider?.shutdown();
    } catch (error) {
      this.warn(`codex-telemetry: closing the Prometheus/OTLP backends failed (${String(error)})`);
    }
  }

  /** Exit-time path (`process.on('exit')`): encode what is queued and close with blocking writes. */
  private exitSync(exitCode: number): void {
    if (this.shutdownPromise) this.pipeline.flushSync();
    else this.pipeline.closeSync({ exitCode });
  }

  private record(stream: string, phase: 'train' | 'eval', rawStep: Step, values: Scalars): boolean {
    const step = checkStep(rawStep);
    if (this.shutdownPromise) return this.refuse(false, rawStep);
    if (step === undefined || values === null || typeof values !== 'object')
      return this.refuse(true, rawStep);
    const columns = toColumns(values);
    if (columns.skipped !== undefined)
      this.badInput(
        `scalar "${columns.skipped}" is ${String(columns.skippedType)}, not a number; it was skipped`,
      );
    this.accept({ stream, phase, step, ts: nowSeconds(), names: columns.names, values: columns.values });
    return true;
  }

  /** The one place a train or eval row enters: files, backends, step time. */
  private accept(row: Parameters<RowPipeline['push']>[0]): void {
    this.pipeline.push(row);
    if (row.phase === 'system') return;
    this.training?.record(row.phase, row.step, row.names, row.values);
    if (row.phase !== 'train') return;
    if (this.lastTrainTs !== undefined && row.ts >= this.lastTrainTs) {
      const seconds = row.ts - this.lastTrainTs;
      this.training?.recordStepTime(seconds);
      this.pipeline.recordStepTime(seconds, row.step, row.ts);
    }
    this.lastTrainTs = row.ts;
    this.lastTrainStep = row.step;
    this.nextTrainStep = nextStep(row.step);
  }

  private refuse(badStep: boolean, rawStep: unknown): false {
    if (badStep)
      this.badInput(`log() needs an int64 step and an object of numbers; got step ${String(rawStep)}`);
    else this.droppedAfterShutdown++;
    return false;
  }

  private badInput(message: string): void {
    if (this.badInputWarned) {
      diag.debug(`codex-telemetry: ${message}`);
      return;
    }
    this.badInputWarned = true;
    this.warn(`codex-telemetry: ${message} (further bad input is reported at debug level)`);
  }
}

/** Starts telemetry; the runbook's entry point. */
export function startTelemetry(config: TrainConfig = {}, options: StartOptions = {}): Promise<Telemetry> {
  return Telemetry.start(config, options);
}

const defaultInfo = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
