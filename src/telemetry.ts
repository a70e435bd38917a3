/**
 * The training-facing facade: start telemetry from a TrainConfig, `log()` scalars per step, open
 * evaluation streams, save checkpoint manifests, `flush()` and `shutdown()`.
 *
 * The facade only routes. File sinks get rows through the RowPipeline (one flush clock); the
 * aggregating backends (Prometheus, OTLP) read OTel instruments on the backend MeterProvider,
 * with no step label, so their cardinality stays bounded. Which sinks exist is the registry's
 * business (src/exporters/registry.ts). README "Architecture" walks one `log()` call through.
 */
import type { Meter } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { HttpRoutes } from './exporters/prometheus/endpoint.js';
import type { Resource } from '@opentelemetry/resources';
import {
  resolveEvaluationConfig,
  resolveTrainConfig,
  type EvaluationConfig,
  type ResolvedTrainConfig,
  type TrainConfig,
} from './config/train-config.js';
import { DEFAULT_SINKS } from './exporters/registry.js';
import { secondsHistogramViews, STEP_DURATION_BUCKETS_SECONDS } from './instruments/histogram-views.js';
import { LastValueGauges } from './instruments/last-value-gauges.js';
import { METER_TRAINING } from './instruments/names.js';
import type { Phase, Step, StepRow } from './step.js';
import { TrainingInstruments } from './instruments/training-instruments.js';
import { installExitHooks } from './pipeline/exit-hooks.js';
import { SYSTEM_STREAM, TRAIN_STREAM } from './pipeline/row.js';
import { RowPipeline } from './pipeline/row-pipeline.js';
import type { OutputPaths, SinkContext, SinkDefinition } from './pipeline/sink-definition.js';
import { defaultWarn, SinkHealth, type WarnFn } from './health.js';
import { errorText } from './errors.js';
import { StepTimeAccumulator } from './pipeline/step-time-accumulator.js';
import { saveCheckpointManifest, type CheckpointOptions } from './runtime/checkpoint.js';
import { assembleSinks, openStreamSinks, type AssembledSinks } from './runtime/assemble-sinks.js';
import { EvaluationStream } from './runtime/evaluation-stream.js';
import { buildResource } from './runtime/resource.js';
import { RowIntake, type SystemRowSource } from './runtime/row-intake.js';
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
  /** More routes served by the /metrics server, e.g. the dashboard under `/`. */
  httpRoutes?: HttpRoutes;
  /**
   * Runs at shutdown once every file is closed and before the /metrics server closes: the
   * dashboard reads the run's last rows and tells open pages it ended (with `exitCode`).
   */
  beforeServerClose?: (exitCode: number) => Promise<void>;
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
  private readonly evalStreams = new Set<string>();
  private readonly warn: WarnFn;
  private readonly removeExitHooks: (() => void) | undefined;
  private readonly intake: RowIntake;
  private running: RunningSampler | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private beforeServerClose: ((exitCode: number) => Promise<void>) | undefined;

  private constructor(
    context: SinkContext,
    sinks: AssembledSinks,
    gauges: LastValueGauges,
    warn: WarnFn,
    resource: Resource,
  ) {
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
    let training: TrainingInstruments | undefined;
    if (sinks.readers.length > 0) {
      this.backendProvider = new MeterProvider({
        resource,
        readers: sinks.readers,
        views: secondsHistogramViews(),
      });
      training = new TrainingInstruments({
        meter: this.backendProvider.getMeter(METER_TRAINING),
        gauges,
        health: this.health,
        maxScalarNames: this.config.maxScalarNames,
        warn,
      });
    }
    this.intake = new RowIntake(this.pipeline, training, warn);
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
    // Scalar gauges reach both backends through one producer (faster to scrape than SDK observables).
    const gauges = new LastValueGauges({ scope: { name: METER_TRAINING } });
    const context: SinkContext = {
      config: resolved,
      env,
      health: new SinkHealth(warn),
      info: options.info ?? defaultInfo,
      startTime: nowSeconds(),
      trainStreams: (options.ndjsonPhases ?? ['train', 'system']).map((phase) =>
        phase === 'system' ? SYSTEM_STREAM : phase === 'train' ? TRAIN_STREAM : phase,
      ),
      metricProducers: [gauges],
      httpRoutes: options.httpRoutes,
    };
    const resource = buildResource(resolved, env);
    const sinks = await assembleSinks(options.sinks ?? DEFAULT_SINKS, context);
    const telemetry = new Telemetry(context, sinks, gauges, warn, resource);
    telemetry.beforeServerClose = options.beforeServerClose;
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
    // System samples waiting are received here rather than on a timer wake of their own.
    this.running?.sampler.poll();
    const accepted = this.intake.record(
      TRAIN_STREAM,
      'train',
      options.step ?? this.intake.nextTrainStep,
      values,
    );
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
    this.running?.sampler.poll();
    return this.intake.record(stream, 'eval', step, values);
  }

  /**
   * Replays a row that was logged elsewhere (the bridge): its own phase, step and timestamp.
   * Returns false when the row was refused (bad step, or after shutdown).
   */
  ingest(row: StepRow): boolean {
    // The bridge replays rows as the trainer writes them: samples waiting are received here too.
    this.running?.sampler.poll();
    return this.intake.ingest(row);
  }

  /** @internal Records a system sample: one row of flat keys (docs/system-keys.md). */
  recordSystem(sample: SystemRowSource): void {
    this.intake.recordSystem(sample);
  }

  /**
   * Writes `run_manifest.json` beside a checkpoint (best effort: resolves to its path, or undefined
   * when it could not be written; never rejects). With `archiveMetrics`, the NDJSON streams are
   * closed as segments first and placed beside the checkpoint, listed with their sha256.
   */
  async checkpointSaved(
    checkpointPath: string,
    options: CheckpointOptions = {},
  ): Promise<string | undefined> {
    const written = await saveCheckpointManifest(checkpointPath, options, {
      pipeline: this.pipeline,
      runId: this.config.runId,
      lastStep: this.intake.lastTrainStep,
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

  /** @internal The system sampler, when one runs (tests read its GPU list and latest sample). */
  get systemSampler(): SystemSampler | undefined {
    return this.running?.sampler;
  }

  /** Writes everything logged so far to the file sinks (bytes handed to the kernel). Never rejects. */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  /**
   * Flushes and closes every sink; `exitCode` is the run's outcome (W&B exit record). Never rejects.
   * An outcome that depends on the sinks (`demo` fails when every file sink went down) is a
   * function: it is asked once every row has been flushed, so a sink that fails in that last flush
   * is already known, and the exit record says what the process then exits with.
   */
  shutdown(exitCode: number | (() => number) = 0): Promise<void> {
    this.shutdownPromise ??= this.doShutdown(exitCode);
    return this.shutdownPromise;
  }

  /** Rows refused because they arrived after shutdown(). */
  get rowsDroppedAfterShutdown(): number {
    return this.intake.droppedAfterClose;
  }

  /** @internal Whether the file pipeline runs a flush timer (false with flushInterval 0). */
  get hasFlushTimer(): boolean {
    return this.pipeline.hasTimer;
  }

  private async doShutdown(exitCodeSource: number | (() => number)): Promise<void> {
    this.removeExitHooks?.();
    this.intake.close();
    const samplerStopped = this.running?.stop();
    let exitCode = typeof exitCodeSource === 'number' ? exitCodeSource : 0;
    if (typeof exitCodeSource === 'number') await this.pipeline.close({ exitCode });
    else {
      // Every row flushed first (a W&B log that fails there is known), then asked once the
      // sinks that do not record the outcome have closed, for those that do (W&B).
      await this.pipeline.flush();
      await this.pipeline.close(() => ({ exitCode: (exitCode = this.askExitCode(exitCodeSource)) }));
    }
    await samplerStopped;
    try {
      await this.beforeServerClose?.(exitCode);
    } catch (error) {
      this.warn(`codex-telemetry: before closing the /metrics server: ${errorText(error)}`);
    }
    try {
      await this.backendProvider?.shutdown();
    } catch (error) {
      this.warn(`codex-telemetry: closing the Prometheus/OTLP backends failed (${String(error)})`);
    }
  }

  /** The caller's outcome function; one that throws fails the run rather than the shutdown. */
  private askExitCode(source: () => number): number {
    try {
      return source();
    } catch (error) {
      this.warn(`codex-telemetry: deciding the run's exit code failed (${errorText(error)}); recording 1`);
      return 1;
    }
  }

  /** Exit-time path (`process.on('exit')`): encode what is queued and close with blocking writes. */
  private exitSync(exitCode: number): void {
    if (this.shutdownPromise) this.pipeline.flushSync();
    else this.pipeline.closeSync({ exitCode });
  }
}

/** Starts telemetry; the runbook's entry point. */
export function startTelemetry(config: TrainConfig = {}, options: StartOptions = {}): Promise<Telemetry> {
  return Telemetry.start(config, options);
}

const defaultInfo = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
