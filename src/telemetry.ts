/**
 * The training-facing API: start telemetry from a TrainConfig, `log()` scalars per step, open
 * evaluation streams, `shutdown()`.
 *
 * Two MeterProviders, by design (README, "Architecture"):
 * - the file provider feeds NDJSON / TensorBoard / W&B through a StepMetricReader that exports every
 *   logged (step, name) exactly once, in order, from the StepProducer;
 * - the backend provider feeds Prometheus and OTLP with last-value gauges, counters and a step-time
 *   histogram, with no step label, so their cardinality stays bounded.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { diag, type Histogram, type Meter } from '@opentelemetry/api';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import {
  detectResources,
  envDetector,
  resourceFromAttributes,
  type Resource,
} from '@opentelemetry/resources';
import {
  newRunId,
  resolveEvaluationConfig,
  resolveTrainConfig,
  type EvaluationConfig,
  type ResolvedTrainConfig,
  type TrainConfig,
} from './config.js';
import { FanOutExporter } from './exporters/fan-out-exporter.js';
import type { FileSinkExporter } from './exporters/file-sink.js';
import { NdjsonExporter, type NdjsonExporterOptions } from './exporters/ndjson/ndjson-exporter.js';
import { RotationPolicy } from './exporters/file/rotation-policy.js';
import { TensorBoardExporter } from './exporters/tensorboard/tensorboard-exporter.js';
import { WandbExporter } from './exporters/wandb/wandb-exporter.js';
import { SystemSampler } from './system/system-sampler.js';
import { registerSystemInstruments } from './instruments/system-instruments.js';
import { METER_TRAINING, METRIC_STEP_DURATION } from './instruments/names.js';
import { StepProducer } from './instruments/step-producer.js';
import {
  INT64_MAX,
  INT64_MIN,
  normalizeStep,
  type Phase,
  type Step,
  type StepRow,
} from './instruments/step-row.js';
import { TrainingInstruments } from './instruments/training-instruments.js';
import { installExitHooks } from './pipeline/exit-hooks.js';
import { createPrometheusReader, secondsHistogramViews } from './exporters/prometheus/index.js';
import { createOtlpReader } from './exporters/otlp/index.js';
import { LastValueGauges } from './exporters/prometheus/last-value-gauges.js';
import { writeRunManifest } from './manifest/index.js';
import { defaultWarn, SinkHealth, type WarnFn } from './pipeline/sink-health.js';
import { StepMetricReader } from './pipeline/step-metric-reader.js';

export interface StartOptions {
  /** Environment to read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where degradation warnings go (default process.emitWarning). */
  warn?: WarnFn;
  /** Where informational lines go, e.g. the /metrics URL (default: stderr). */
  info?: (line: string) => void;
  /** Phases the train NDJSON stream holds (default train + system). The bridge, whose trainer
   * already wrote the train stream, keeps only system samples there. */
  ndjsonPhases?: Phase[];
  /** Root of the process tree the system sampler watches (default: this process). */
  watchPid?: number;
}

export interface LogOptions {
  /** Training step (int64: bigint beyond 2^53). Default: the previous step + 1 (0 first). */
  step?: Step;
  /** Push this step to the files now instead of at the next flush interval. */
  commit?: boolean;
}

export type Scalars = Readonly<Record<string, number>>;

/** Where each sink writes, for the demo and for users who want to print it. */
export interface OutputPaths {
  metricsOut?: string;
  evalMetricsOut: string[];
  tensorboardDir?: string;
  wandbRunDir?: string;
  metricsUrl?: string;
  /** run_manifest.json files written by checkpointSaved(). */
  manifests?: string[];
}

export class Telemetry {
  readonly config: ResolvedTrainConfig;
  readonly health: SinkHealth;
  readonly resource: Resource;
  /** Unix seconds when the run started. */
  readonly startTime: number;
  private readonly producer: StepProducer;
  private readonly fileReader: StepMetricReader;
  private readonly fileProvider: MeterProvider;
  private readonly fanOut: FanOutExporter;
  private readonly backendProvider: MeterProvider | undefined;
  private readonly training: TrainingInstruments | undefined;
  private readonly fileStepDuration: Histogram;
  private readonly evalExporters = new Map<string, NdjsonExporter>();
  private readonly warn: WarnFn;
  private readonly info: (line: string) => void;
  private readonly env: NodeJS.ProcessEnv;
  private readonly removeExitHooks: (() => void) | undefined;
  private readonly wandb: WandbExporter | undefined;
  private nextTrainStep: Step = 0;
  private sampler: SystemSampler | undefined;
  private systemInstruments: { unregister(): void } | undefined;
  private lastTrainTs: number | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private badInputWarned = false;
  private droppedAfterShutdown = 0;
  readonly paths: OutputPaths;

  private constructor(parts: {
    config: ResolvedTrainConfig;
    health: SinkHealth;
    resource: Resource;
    warn: WarnFn;
    info: (line: string) => void;
    env: NodeJS.ProcessEnv;
    fileExporters: FileSinkExporter[];
    backendReaders: MetricReader[];
    scalarGauges: LastValueGauges;
    wandb: WandbExporter | undefined;
    paths: OutputPaths;
  }) {
    this.config = parts.config;
    this.health = parts.health;
    this.resource = parts.resource;
    this.warn = parts.warn;
    this.info = parts.info;
    this.env = parts.env;
    this.paths = parts.paths;
    this.wandb = parts.wandb;
    this.startTime = nowSeconds();
    this.fanOut = new FanOutExporter(parts.fileExporters);
    this.producer = new StepProducer({
      resource: this.resource,
      onHighWater: () => this.fileReader.requestExport(),
    });
    this.fileReader = new StepMetricReader({
      exporter: this.fanOut,
      producers: [this.producer],
      exportIntervalMillis: Math.round(this.config.flushInterval * 1000),
    });
    this.fileProvider = new MeterProvider({
      resource: this.resource,
      readers: [this.fileReader],
      views: secondsHistogramViews(),
    });
    this.fileStepDuration = this.fileProvider.getMeter(METER_TRAINING).createHistogram(METRIC_STEP_DURATION, {
      description: 'Wall time between consecutive training steps',
      unit: 's',
    });
    if (parts.backendReaders.length > 0) {
      this.backendProvider = new MeterProvider({
        resource: this.resource,
        readers: parts.backendReaders,
        views: secondsHistogramViews(),
      });
      this.training = new TrainingInstruments({
        meter: this.backendProvider.getMeter(METER_TRAINING),
        gauges: parts.scalarGauges,
        health: this.health,
        maxScalarNames: this.config.maxScalarNames,
        warn: this.warn,
      });
    }
    if (this.config.installExitHandlers) {
      this.removeExitHooks = installExitHooks({
        shutdown: (exitCode) => this.shutdown(exitCode),
        flushSync: (exitCode) => this.flushSync(exitCode),
      });
    }
  }

  /** Validates the config once, opens every enabled sink, and returns the running telemetry. */
  static async start(config: TrainConfig = {}, options: StartOptions = {}): Promise<Telemetry> {
    const env = options.env ?? process.env;
    const resolved = resolveTrainConfig(config, env);
    const warn = options.warn ?? defaultWarn;
    const info = options.info ?? defaultInfo;
    const health = new SinkHealth(warn);
    const resource = buildResource(resolved, env);
    const fileExporters: FileSinkExporter[] = [];
    const paths: OutputPaths = { evalMetricsOut: [] };
    if (resolved.ndjson) {
      const train = new NdjsonExporter({
        path: resolved.metricsOut,
        runId: resolved.runId,
        phases: options.ndjsonPhases ?? ['train', 'system'],
        health,
        sinkName: 'ndjson',
        flushIntervalMs: Math.round(resolved.flushInterval * 1000),
        extraTags: rankTags(resolved),
        ...ndjsonRotation(resolved, info),
      });
      fileExporters.push(train);
      paths.metricsOut = train.path;
    }
    if (resolved.tensorboard) {
      const tensorboard = new TensorBoardExporter({
        logdir: resolved.tensorboardDir,
        runName: resolved.runName,
        health,
        rotation: new RotationPolicy({ maxBytes: resolved.tensorboardRotateBytes }),
        config: resolved.config,
      });
      fileExporters.push(tensorboard);
      paths.tensorboardDir = resolved.tensorboardDir;
    }
    let wandb: WandbExporter | undefined;
    if (resolved.wandbEnable) {
      wandb = new WandbExporter({
        dir: resolved.wandbDir,
        // W&B run ids are 8 characters of [a-z0-9]; another run id gets a W&B id of its own.
        runId: /^[a-z0-9]{8}$/.test(resolved.runId) ? resolved.runId : newRunId(),
        project: resolved.wandbProject,
        entity: resolved.wandbEntity,
        displayName: resolved.runName,
        config: resolved.config,
        startTime: nowSeconds(),
        health,
      });
      fileExporters.push(wandb);
      paths.wandbRunDir = wandb.runDir;
    }
    const backendReaders: MetricReader[] = [];
    // Scalar gauges reach both backends through one producer (faster to scrape than SDK observables).
    const scalarGauges = new LastValueGauges({ scope: { name: METER_TRAINING } });
    if (resolved.prometheus) {
      const prometheus = await createPrometheusReader({
        metricProducers: [scalarGauges],
        host: resolved.prometheusHost,
        port: resolved.prometheusPort,
        localRank: resolved.localRank,
        health,
        log: info,
      });
      if (prometheus.reader) backendReaders.push(prometheus.reader);
      paths.metricsUrl = prometheus.url;
    }
    if (resolved.otlp) {
      const otlp = createOtlpReader({ env, enabled: true, health, metricProducers: [scalarGauges] });
      if (otlp) backendReaders.push(otlp);
    }
    const telemetry = new Telemetry({
      config: resolved,
      health,
      resource,
      warn,
      info,
      env,
      fileExporters,
      backendReaders,
      scalarGauges,
      wandb,
      paths,
    });
    // Interval 0: no sampler, no timer, no callbacks, NVML never loaded. Only local rank 0 samples
    // the host and its GPUs, so ranks on one machine do not report the same numbers N times.
    if (resolved.systemMetricsInterval > 0 && resolved.localRank === 0) {
      await telemetry.startSampler(options.watchPid);
    }
    return telemetry;
  }

  /** The meter of the backend provider, for user-defined instruments (undefined without backends). */
  get meter(): Meter | undefined {
    return this.backendProvider?.getMeter(METER_TRAINING);
  }

  /** Logs training scalars for one step. Never throws; returns false when the row was not accepted. */
  log(values: Scalars, options: LogOptions = {}): boolean {
    const step = options.step ?? this.nextTrainStep;
    const accepted = this.record('train', step, values);
    if (accepted && options.commit) void this.fileReader.exportOnce();
    return accepted;
  }

  /** Opens an evaluation stream: same schema, its own file, `tags.phase = "eval"`. */
  evaluation(config: EvaluationConfig = {}): EvaluationStream {
    const { metricsFilename } = resolveEvaluationConfig(config, this.config, this.env);
    if (this.config.ndjson && !this.evalExporters.has(metricsFilename)) {
      const exporter = new NdjsonExporter({
        path: metricsFilename,
        runId: this.config.runId,
        phases: ['eval'],
        health: this.health,
        sinkName: this.evalExporters.size === 0 ? 'ndjson_eval' : `ndjson_eval_${this.evalExporters.size}`,
        flushIntervalMs: Math.round(this.config.flushInterval * 1000),
        extraTags: rankTags(this.config),
        ...ndjsonRotation(this.config, this.info),
      });
      this.evalExporters.set(metricsFilename, exporter);
      this.fanOut.add(exporter);
      this.paths.evalMetricsOut.push(exporter.path);
    }
    return new EvaluationStream(this, metricsFilename);
  }

  /** @internal Records an evaluation row (EvaluationStream calls this). */
  recordEval(values: Scalars, step: Step): boolean {
    return this.record('eval', step, values);
  }

  /**
   * Replays a row that was logged elsewhere (the bridge): its own phase, step and timestamp.
   * Returns false when the row was refused (bad step, or after shutdown).
   */
  ingest(row: StepRow): boolean {
    if (row.phase === 'system') {
      if (this.shutdownPromise) return false;
      const step = checkStep(row.step);
      if (step === undefined) return false;
      this.producer.push({ ...row, step });
      return true;
    }
    return this.record(row.phase, row.step, undefined, row);
  }

  /** @internal Records a system sample: one row of flat keys (docs/system-keys.md). */
  recordSystem(sample: { ts: number; seq: number; values: Readonly<Record<string, number>> }): void {
    if (this.shutdownPromise) return;
    this.producer.push({
      phase: 'system',
      step: sample.seq,
      ts: sample.ts,
      names: Object.keys(sample.values),
      values: Object.values(sample.values),
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
    const step = options.step ?? (this.lastTrainTs === undefined ? undefined : this.lastLoggedStep());
    const ndjson = this.fanOut.children.filter(
      (child): child is NdjsonExporter => child instanceof NdjsonExporter,
    );
    let metricsFiles: string[] = [];
    if (options.archiveMetrics) {
      try {
        await this.flush();
        for (const stream of ndjson) await stream.rotateNow();
        metricsFiles = ndjson.flatMap((stream) => stream.segments());
      } catch (error) {
        diag.debug(`codex-telemetry: closing metric segments for the archive failed: ${String(error)}`);
      }
    }
    const written = await writeRunManifest(checkpointPath, {
      step,
      runId: this.config.runId,
      sha256: options.sha256 ?? false,
      archiveMetrics: options.archiveMetrics ?? false,
      metricsFiles,
      envKeys: options.envKeys,
      env: this.env,
    });
    if (written) (this.paths.manifests ??= []).push(written);
    return written;
  }

  private lastLoggedStep(): Step {
    const next = this.nextTrainStep;
    return typeof next === 'bigint' ? normalizeStep(next - 1n) : next - 1;
  }

  /** Points the system sampler at another process tree (the bridge's child). */
  watchProcess(pid: number | undefined): void {
    if (pid !== undefined) this.sampler?.watch(pid);
  }

  /** The system sampler, when one runs (for its GPU list and latest sample). */
  get systemSampler(): SystemSampler | undefined {
    return this.sampler;
  }

  private async startSampler(pid: number | undefined): Promise<void> {
    const sampler = new SystemSampler({
      intervalSeconds: this.config.systemMetricsInterval,
      gpu: this.config.monitoringEnableGpu,
      nvmlLibrary: this.config.nvmlLibrary,
      outputDir: this.config.outDir,
      pid,
      health: this.health,
      cudaVisibleDevices: this.config.cudaVisibleDevices,
      warn: this.warn,
      onSample: (sample) => this.recordSystem(sample),
    });
    this.sampler = sampler;
    if (this.backendProvider)
      this.systemInstruments = registerSystemInstruments(
        this.backendProvider.getMeter(METER_TRAINING),
        sampler,
      );
    await sampler.start();
  }

  /** Writes everything logged so far to the file sinks (bytes handed to the kernel). */
  async flush(): Promise<void> {
    await this.fileReader.forceFlush();
  }

  /** Flushes and closes every sink. Idempotent; `exitCode` ends the W&B run (default 0). */
  shutdown(exitCode = 0): Promise<void> {
    this.shutdownPromise ??= this.doShutdown(exitCode);
    return this.shutdownPromise;
  }

  /** Rows refused because they arrived after shutdown(). */
  get rowsDroppedAfterShutdown(): number {
    return this.droppedAfterShutdown;
  }

  private async doShutdown(exitCode: number): Promise<void> {
    this.removeExitHooks?.();
    this.wandb?.setExitCode(exitCode);
    this.sampler?.stop();
    this.systemInstruments?.unregister();
    await this.fileProvider.shutdown();
    if (this.backendProvider) await this.backendProvider.shutdown();
  }

  /** Exit-time path: encode what is queued and write it with blocking calls. */
  private flushSync(exitCode: number): void {
    if (this.shutdownPromise) {
      this.fanOut.flushSync();
      return;
    }
    try {
      this.fileReader.exportSync(this.producer.drainSync().resourceMetrics);
      this.fanOut.flushSync();
      // The process is ending without shutdown(): close the W&B run with the real exit code.
      this.wandb?.finishSync(exitCode);
    } catch (error) {
      diag.error('codex-telemetry: exit-time flush failed', error);
    }
  }

  private record(
    phase: Exclude<Phase, 'system'>,
    rawStep: Step,
    values: Scalars | undefined,
    replayed?: StepRow,
  ): boolean {
    if (this.shutdownPromise) {
      this.droppedAfterShutdown++;
      return false;
    }
    const step = checkStep(rawStep);
    if (step === undefined || (replayed === undefined && (values === null || typeof values !== 'object'))) {
      this.badInput(`log() needs an int64 step and an object of numbers; got step ${String(rawStep)}`);
      return false;
    }
    if (replayed) {
      const row: StepRow = { ...replayed, phase, step };
      this.producer.push(row);
      this.training?.record(phase, step, row.ts, row.names, row.values);
      if (phase === 'train') this.afterTrainStep(step, row.ts);
      return true;
    }
    values = values as Scalars;
    const names = Object.keys(values);
    const numbers = new Array<number>(names.length);
    let kept = 0;
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const value = values[name];
      if (typeof value !== 'number') {
        this.badInput(`scalar "${name}" is ${typeof value}, not a number; it was skipped`);
        continue;
      }
      names[kept] = name;
      numbers[kept++] = value;
    }
    names.length = kept;
    numbers.length = kept;
    const ts = nowSeconds();
    const row: StepRow = { phase, step, ts, names, values: numbers };
    this.producer.push(row);
    this.training?.record(phase, step, ts, names, numbers);
    if (phase === 'train') this.afterTrainStep(step, ts);
    return true;
  }

  private afterTrainStep(step: Step, ts: number): void {
    if (this.lastTrainTs !== undefined && ts >= this.lastTrainTs)
      this.fileStepDuration.record(ts - this.lastTrainTs);
    this.lastTrainTs = ts;
    this.nextTrainStep = typeof step === 'bigint' ? normalizeStep(step + 1n) : normalizeStep(step + 1);
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

export class EvaluationStream {
  readonly metricsFilename: string;
  private readonly telemetry: Telemetry;
  private nextStep: Step = 0;

  constructor(telemetry: Telemetry, metricsFilename: string) {
    this.telemetry = telemetry;
    this.metricsFilename = metricsFilename;
  }

  /** Logs evaluation scalars for a step (usually the training step the eval ran at). */
  log(values: Scalars, options: { step?: Step } = {}): boolean {
    const step = options.step ?? this.nextStep;
    const accepted = this.telemetry.recordEval(values, step);
    if (accepted) this.nextStep = typeof step === 'bigint' ? step + 1n : step + 1;
    return accepted;
  }
}

/** Starts telemetry; the runbook's entry point. */
export function startTelemetry(config: TrainConfig = {}, options: StartOptions = {}): Promise<Telemetry> {
  return Telemetry.start(config, options);
}

function checkStep(step: Step): Step | undefined {
  if (typeof step === 'number') {
    return Number.isSafeInteger(step) ? step : undefined;
  }
  if (typeof step === 'bigint') {
    return step >= INT64_MIN && step <= INT64_MAX ? normalizeStep(step) : undefined;
  }
  return undefined;
}

/** Unix seconds with sub-millisecond resolution (Date.now() only has milliseconds). */
export function nowSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

const defaultInfo = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function ndjsonRotation(
  config: ResolvedTrainConfig,
  info: (line: string) => void,
): Pick<NdjsonExporterOptions, 'rotation' | 'gzipSegments' | 'keepSegments' | 'info'> {
  return {
    rotation: new RotationPolicy({
      maxBytes: config.metricsRotateBytes,
      maxSeconds: config.metricsRotateSeconds,
    }),
    gzipSegments: config.metricsRotateGzip,
    keepSegments: config.metricsRotateKeep,
    info,
  };
}

function rankTags(config: ResolvedTrainConfig): Record<string, number> | undefined {
  if (config.worldSize <= 1) return undefined;
  return { rank: config.rank, local_rank: config.localRank, world_size: config.worldSize };
}

function buildResource(config: ResolvedTrainConfig, env: NodeJS.ProcessEnv): Resource {
  const ours = resourceFromAttributes({
    'service.name': config.serviceName,
    'service.instance.id': `${config.runId}-${config.rank}`,
    'host.name': os.hostname(),
    'codex.run_id': config.runId,
    'codex.run_name': config.runName,
    'codex.rank': config.rank,
    'codex.local_rank': config.localRank,
    'codex.world_size': config.worldSize,
  });
  // OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME win over our defaults, as OTel users expect.
  const fromEnv =
    env === process.env ? detectResources({ detectors: [envDetector] }) : resourceFromAttributes({});
  return ours.merge(fromEnv);
}
