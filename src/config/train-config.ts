/**
 * TrainConfig / EvaluationConfig: the runbook's knobs in TypeScript casing, validated once, with
 * environment variables merged once. Precedence: explicit config, then environment, then default.
 * Every error names the field (or the environment variable) and the bad value.
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, TelemetryError } from '../errors.js';
import { CONFIG_FIELDS, FIELD_BY_ALIAS, FIELD_BY_NAME } from './fields.js';
import { checkOtlpEndpoints, envBool, envStr, fromEnv, fromValue } from './values.js';

export type WandbMode = 'offline' | 'disabled';
/** The OTLP transports (OTEL_EXPORTER_OTLP_PROTOCOL's values). */
export type OtlpProtocol = 'http/protobuf' | 'grpc' | 'http/json';

export interface TrainConfig {
  /** Run identifier (8 characters [a-z0-9] by default). Env: CODEX_RUN_ID, then WANDB_RUN_ID. */
  runId?: string;
  /** Human-readable run name (TensorBoard run folder, W&B display name). Env: CODEX_RUN_NAME, WANDB_NAME. */
  runName?: string;
  /** Base directory for relative output paths. Env: CODEX_OUT_DIR. Default: the working directory. */
  outDir?: string;
  /** Write the NDJSON streams. Default true. */
  ndjson?: boolean;
  /** Train + system NDJSON stream. Env: CODEX_METRICS_OUT. Default `.codex/metrics.ndjson`. */
  metricsOut?: string;
  /** Write TensorBoard event files. Env: CODEX_TENSORBOARD=1. Default false. */
  tensorboard?: boolean;
  /** TensorBoard logdir. Env: CODEX_TENSORBOARD_DIR. Default `runs`. */
  tensorboardDir?: string;
  /** Event files rotate past this many bytes; 0 = never. Default 0. */
  tensorboardRotateBytes?: number;
  /** Write a W&B offline run. Env: CODEX_WANDB_ENABLE=1. Default false; WANDB_MODE=disabled wins. */
  wandbEnable?: boolean;
  /** W&B directory holding offline-run-* folders. Env: WANDB_DIR. Default `wandb`. */
  wandbDir?: string;
  wandbProject?: string;
  wandbEntity?: string;
  /** Seconds between system samples; 0 = no sampler, no timer. Env: CODEX_SYSTEM_METRICS_INTERVAL. Default 10. */
  systemMetricsInterval?: number;
  /** Sample NVIDIA GPUs through NVML. Env: CODEX_MONITORING_ENABLE_GPU=1. Default false. */
  monitoringEnableGpu?: boolean;
  /** Path of libnvidia-ml. Env: CODEX_NVML_LIBRARY. Default `libnvidia-ml.so.1`. */
  nvmlLibrary?: string;
  /** Seconds between file flushes. Env: CODEX_FLUSH_INTERVAL. Default 1. */
  flushInterval?: number;
  /** Serve /metrics for Prometheus. Env: CODEX_PROMETHEUS=1. Default false. */
  prometheus?: boolean;
  /** Env: OTEL_EXPORTER_PROMETHEUS_HOST. Default 127.0.0.1. */
  prometheusHost?: string;
  /** 0 = any free port; each local rank adds its LOCAL_RANK. Env: OTEL_EXPORTER_PROMETHEUS_PORT. Default 9464. */
  prometheusPort?: number;
  /** Prometheus file_sd entry for this rank's /metrics (a folder or a file). Env: CODEX_PROMETHEUS_SD_FILE. */
  prometheusSdFile?: string;
  /** Push OTLP. Default: on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is set. */
  otlp?: boolean;
  /** OTLP transport. Env: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, then OTEL_EXPORTER_OTLP_PROTOCOL. Default http/protobuf. */
  otlpProtocol?: OtlpProtocol;
  /** Longest wait at shutdown for an unreachable collector, in seconds. Env: CODEX_OTLP_SHUTDOWN_TIMEOUT. Default 2. */
  otlpShutdownTimeout?: number;
  /** Env: OTEL_SERVICE_NAME. Default `codex-telemetry`. */
  serviceName?: string;
  /** Env: RANK, LOCAL_RANK, WORLD_SIZE. Defaults 0, 0, 1. */
  rank?: number;
  localRank?: number;
  worldSize?: number;
  /** Hyperparameters recorded with the run (W&B config, TensorBoard text). */
  config?: Record<string, unknown>;
  /** Flush on SIGINT/SIGTERM/exit. Default true. */
  installExitHandlers?: boolean;
  /** Distinct scalar names exported to Prometheus/OTLP; more are reported and dropped there. Default 1000. */
  maxScalarNames?: number;
  /** NDJSON rotation: bytes per segment (0 = off). Env: CODEX_METRICS_ROTATE_BYTES. */
  metricsRotateBytes?: number;
  /** NDJSON rotation: seconds per segment (0 = off). Env: CODEX_METRICS_ROTATE_SECONDS. */
  metricsRotateSeconds?: number;
  /** Keep at most this many closed segments (0 = all). */
  metricsRotateKeep?: number;
  /** Gzip closed segments. */
  metricsRotateGzip?: boolean;
  /** The most a stuck file sink holds in memory, in bytes. Env: CODEX_MAX_SINK_QUEUE_BYTES. Default 48 MiB. */
  maxSinkQueueBytes?: number;
}

export interface EvaluationConfig {
  /** Eval NDJSON stream. Env: CODEX_EVAL_METRICS_OUT. Default `.codex/eval_metrics.ndjson`. */
  metricsFilename?: string;
}

export interface ResolvedTrainConfig {
  runId: string;
  runName: string;
  outDir: string;
  ndjson: boolean;
  metricsOut: string;
  evalMetricsOut: string;
  tensorboard: boolean;
  tensorboardDir: string;
  tensorboardRotateBytes: number;
  wandbEnable: boolean;
  wandbMode: WandbMode;
  wandbDir: string;
  wandbProject: string;
  wandbEntity: string | undefined;
  systemMetricsInterval: number;
  monitoringEnableGpu: boolean;
  nvmlLibrary: string | undefined;
  cudaVisibleDevices: string | undefined;
  flushInterval: number;
  prometheus: boolean;
  prometheusHost: string;
  prometheusPort: number;
  prometheusSdFile: string | undefined;
  otlp: boolean;
  otlpProtocol: OtlpProtocol;
  otlpShutdownTimeout: number;
  serviceName: string;
  rank: number;
  localRank: number;
  worldSize: number;
  config: Record<string, unknown>;
  installExitHandlers: boolean;
  maxScalarNames: number;
  metricsRotateBytes: number;
  metricsRotateSeconds: number;
  metricsRotateKeep: number;
  metricsRotateGzip: boolean;
  maxSinkQueueBytes: number;
}

/** Every TrainConfig field, for validation (and for tests that fuzz the config). */
export const TRAIN_CONFIG_FIELDS: ReadonlySet<string> = new Set(CONFIG_FIELDS.map((field) => field.name));

export const DEFAULT_METRICS_OUT = '.codex/metrics.ndjson';
export const DEFAULT_EVAL_METRICS_OUT = '.codex/eval_metrics.ndjson';

type Env = NodeJS.ProcessEnv;

/**
 * Resolves a TrainConfig. Precedence per field: `input`, then the field's environment variables,
 * then `commandDefaults` (a CLI's own defaults, e.g. the demo turns every sink on), then the
 * field's default from the table.
 */
export function resolveTrainConfig(
  input: TrainConfig = {},
  env: Env = process.env,
  commandDefaults: Partial<TrainConfig> = {},
): ResolvedTrainConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError('TrainConfig', input, 'an object');
  }
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const field = FIELD_BY_NAME.get(key) ?? FIELD_BY_ALIAS.get(key);
    if (field === undefined) {
      throw new TelemetryError(
        'CONFIG_UNKNOWN_KEY',
        `unknown config field "${key}"; known fields: ${[...TRAIN_CONFIG_FIELDS].join(', ')}`,
      );
    }
    if (value !== undefined) raw[field.name] = value;
  }
  const values: Record<string, unknown> = {};
  for (const field of CONFIG_FIELDS) {
    values[field.name] =
      fromValue(field, raw[field.name]) ??
      fromEnv(field, env) ??
      fromValue(field, (commandDefaults as Record<string, unknown>)[field.name]) ??
      field.default;
  }
  const v = values as Required<TrainConfig>;

  const outDir = path.resolve(v.outDir);
  const inOut = (p: string): string => path.resolve(outDir, p);
  const wandbModeEnv = envStr(env, 'WANDB_MODE');
  if (
    wandbModeEnv !== undefined &&
    !['offline', 'disabled', 'online', 'dryrun', 'run'].includes(wandbModeEnv)
  ) {
    throw new ConfigError('WANDB_MODE', wandbModeEnv, '"offline" or "disabled"');
  }
  // This package never talks to W&B servers: any mode but disabled writes an offline run.
  const wandbMode: WandbMode = wandbModeEnv === 'disabled' ? 'disabled' : 'offline';
  const otlpEndpointSet = checkOtlpEndpoints(env);
  const otelSdkDisabled = envBool(env, 'OTEL_SDK_DISABLED') ?? false;

  const runId = (values.runId as string | undefined) ?? newRunId();
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(runId)) {
    throw new ConfigError('runId', runId, '1-128 characters of [A-Za-z0-9_.-]');
  }

  const resolved: ResolvedTrainConfig = {
    runId,
    runName: (values.runName as string | undefined) ?? `run-${runId}`,
    outDir,
    ndjson: v.ndjson,
    metricsOut: inOut(v.metricsOut),
    evalMetricsOut: inOut(envStr(env, 'CODEX_EVAL_METRICS_OUT') ?? DEFAULT_EVAL_METRICS_OUT),
    tensorboard: v.tensorboard,
    tensorboardDir: inOut(v.tensorboardDir),
    tensorboardRotateBytes: v.tensorboardRotateBytes,
    wandbEnable: v.wandbEnable && wandbMode !== 'disabled',
    wandbMode,
    wandbDir: inOut(v.wandbDir),
    wandbProject: v.wandbProject,
    wandbEntity: values.wandbEntity as string | undefined,
    systemMetricsInterval: v.systemMetricsInterval,
    monitoringEnableGpu: v.monitoringEnableGpu,
    nvmlLibrary: values.nvmlLibrary as string | undefined,
    cudaVisibleDevices: env.CUDA_VISIBLE_DEVICES,
    flushInterval: v.flushInterval,
    prometheus: v.prometheus && !otelSdkDisabled,
    prometheusHost: v.prometheusHost,
    prometheusPort: v.prometheusPort,
    prometheusSdFile:
      values.prometheusSdFile === undefined ? undefined : inOut(values.prometheusSdFile as string),
    otlp: ((values.otlp as boolean | undefined) ?? otlpEndpointSet) && !otelSdkDisabled,
    otlpProtocol: v.otlpProtocol,
    otlpShutdownTimeout: v.otlpShutdownTimeout,
    serviceName: v.serviceName,
    rank: v.rank,
    localRank: v.localRank,
    worldSize: v.worldSize,
    config: v.config,
    installExitHandlers: v.installExitHandlers,
    maxScalarNames: v.maxScalarNames,
    metricsRotateBytes: v.metricsRotateBytes,
    metricsRotateSeconds: v.metricsRotateSeconds,
    metricsRotateKeep: v.metricsRotateKeep,
    metricsRotateGzip: v.metricsRotateGzip,
    maxSinkQueueBytes: v.maxSinkQueueBytes,
  };
  if (resolved.rank >= resolved.worldSize) {
    throw new ConfigError('rank', resolved.rank, `a rank below worldSize (${resolved.worldSize})`);
  }
  return resolved.rank > 0 ? perRank(resolved) : resolved;
}

/**
 * Ranks of one job usually share a config and a working directory. Two processes must never write
 * one file (each tracks its own offset), so rank N > 0 writes `metrics.rankN.ndjson`, a TensorBoard
 * run `<runName>-rankN`, and no W&B run (W&B's own convention: log from rank 0).
 */
function perRank(config: ResolvedTrainConfig): ResolvedTrainConfig {
  return {
    ...config,
    metricsOut: rankPath(config.metricsOut, config.rank),
    evalMetricsOut: rankPath(config.evalMetricsOut, config.rank),
    runName: `${config.runName}-rank${config.rank}`,
    wandbEnable: false,
  };
}

export function rankPath(file: string, rank: number): string {
  if (rank === 0) return file;
  const ext = file.endsWith('.ndjson') ? '.ndjson' : path.extname(file);
  return `${file.slice(0, file.length - ext.length)}.rank${rank}${ext}`;
}

export function resolveEvaluationConfig(
  input: EvaluationConfig = {},
  train: ResolvedTrainConfig,
  env: Env = process.env,
): { metricsFilename: string } {
  if (input === null || typeof input !== 'object')
    throw new ConfigError('EvaluationConfig', input, 'an object');
  for (const key of Object.keys(input)) {
    if (key !== 'metricsFilename' && key !== 'metrics_filename') {
      throw new TelemetryError(
        'CONFIG_UNKNOWN_KEY',
        `unknown EvaluationConfig field "${key}"; known fields: metricsFilename`,
      );
    }
  }
  const raw = input as Record<string, unknown>;
  const given = raw.metricsFilename ?? raw.metrics_filename;
  if (given !== undefined && (typeof given !== 'string' || given === '')) {
    throw new ConfigError('metricsFilename', given, 'a non-empty file path');
  }
  const file = (given as string | undefined) ?? envStr(env, 'CODEX_EVAL_METRICS_OUT');
  return {
    metricsFilename:
      file === undefined ? train.evalMetricsOut : rankPath(path.resolve(train.outDir, file), train.rank),
  };
}

/** 8 characters of [a-z0-9], the shape W&B uses for run ids. */
export function newRunId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (const byte of randomBytes(8)) id += alphabet[byte % alphabet.length];
  return id;
}

/**
 * A command's own defaults placed below the environment: a field keeps `defaults[field]` only when
 * neither `given` nor any of the field's environment variables sets it. So `CODEX_TENSORBOARD=0`
 * turns TensorBoard off in the demo, whose own default is on, while `--tensorboard` still wins.
 */
export function withCommandDefaults(
  given: TrainConfig,
  defaults: Partial<TrainConfig>,
  env: Env = process.env,
): TrainConfig {
  const merged: Record<string, unknown> = { ...given };
  for (const [name, value] of Object.entries(defaults)) {
    if (merged[name] !== undefined) continue;
    const field = FIELD_BY_NAME.get(name);
    if (field?.env.some((variable) => envStr(env, variable) !== undefined)) continue;
    merged[name] = value;
  }
  return merged as TrainConfig;
}
