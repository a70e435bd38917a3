/**
 * TrainConfig / EvaluationConfig: the runbook's knobs in TypeScript casing, validated once, with
 * environment variables merged once. Precedence: explicit config, then environment, then default.
 * Every error names the field (or the environment variable) and the bad value.
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, TelemetryError, describe } from './errors.js';

export type WandbMode = 'offline' | 'disabled';

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
  /** Push OTLP. Default: on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is set. */
  otlp?: boolean;
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
  otlp: boolean;
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
}

/** Every TrainConfig field, for validation (and for tests that fuzz the config). */
export const TRAIN_CONFIG_FIELDS: ReadonlySet<string> = new Set<keyof TrainConfig>([
  'runId',
  'runName',
  'outDir',
  'ndjson',
  'metricsOut',
  'tensorboard',
  'tensorboardDir',
  'tensorboardRotateBytes',
  'wandbEnable',
  'wandbDir',
  'wandbProject',
  'wandbEntity',
  'systemMetricsInterval',
  'monitoringEnableGpu',
  'nvmlLibrary',
  'flushInterval',
  'prometheus',
  'prometheusHost',
  'prometheusPort',
  'otlp',
  'serviceName',
  'rank',
  'localRank',
  'worldSize',
  'config',
  'installExitHandlers',
  'maxScalarNames',
  'metricsRotateBytes',
  'metricsRotateSeconds',
  'metricsRotateKeep',
  'metricsRotateGzip',
]);

/** Runbook (snake_case) spellings accepted as aliases, so a config copied from Python works. */
const SNAKE_ALIASES: Readonly<Record<string, keyof TrainConfig>> = {
  tensorboard_dir: 'tensorboardDir',
  wandb_enable: 'wandbEnable',
  metrics_out: 'metricsOut',
  system_metrics_interval: 'systemMetricsInterval',
  run_id: 'runId',
  run_name: 'runName',
};

export const DEFAULT_METRICS_OUT = '.codex/metrics.ndjson';
export const DEFAULT_EVAL_METRICS_OUT = '.codex/eval_metrics.ndjson';

type Env = NodeJS.ProcessEnv;

export function resolveTrainConfig(input: TrainConfig = {}, env: Env = process.env): ResolvedTrainConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError('TrainConfig', input, 'an object');
  }
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const canonical = SNAKE_ALIASES[key] ?? key;
    if (!TRAIN_CONFIG_FIELDS.has(canonical)) {
      throw new TelemetryError(
        'CONFIG_UNKNOWN_KEY',
        `unknown config field "${key}"; known fields: ${[...TRAIN_CONFIG_FIELDS].join(', ')}`,
      );
    }
    if (value !== undefined) raw[canonical] = value;
  }

  const outDir = path.resolve(str(raw, 'outDir') ?? envStr(env, 'CODEX_OUT_DIR') ?? '.');
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
  const wandbWanted = bool(raw, 'wandbEnable') ?? envBool(env, 'CODEX_WANDB_ENABLE') ?? false;
  const otlpEndpointSet =
    envStr(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined ||
    envStr(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT') !== undefined;
  const otelSdkDisabled = envBool(env, 'OTEL_SDK_DISABLED') ?? false;

  const runId = str(raw, 'runId') ?? envStr(env, 'CODEX_RUN_ID') ?? envStr(env, 'WANDB_RUN_ID') ?? newRunId();
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(runId)) {
    throw new ConfigError('runId', runId, '1-128 characters of [A-Za-z0-9_.-]');
  }

  const resolved: ResolvedTrainConfig = {
    runId,
    runName:
      str(raw, 'runName') ?? envStr(env, 'CODEX_RUN_NAME') ?? envStr(env, 'WANDB_NAME') ?? `run-${runId}`,
    outDir,
    ndjson: bool(raw, 'ndjson') ?? true,
    metricsOut: inOut(str(raw, 'metricsOut') ?? envStr(env, 'CODEX_METRICS_OUT') ?? DEFAULT_METRICS_OUT),
    evalMetricsOut: inOut(envStr(env, 'CODEX_EVAL_METRICS_OUT') ?? DEFAULT_EVAL_METRICS_OUT),
    tensorboard: bool(raw, 'tensorboard') ?? envBool(env, 'CODEX_TENSORBOARD') ?? false,
    tensorboardDir: inOut(str(raw, 'tensorboardDir') ?? envStr(env, 'CODEX_TENSORBOARD_DIR') ?? 'runs'),
    tensorboardRotateBytes: num(raw, 'tensorboardRotateBytes', { min: 0, integer: true }) ?? 0,
    wandbEnable: wandbWanted && wandbMode !== 'disabled',
    wandbMode,
    wandbDir: inOut(str(raw, 'wandbDir') ?? envStr(env, 'WANDB_DIR') ?? 'wandb'),
    wandbProject: str(raw, 'wandbProject') ?? envStr(env, 'WANDB_PROJECT') ?? 'codex',
    wandbEntity: str(raw, 'wandbEntity') ?? envStr(env, 'WANDB_ENTITY'),
    systemMetricsInterval:
      num(raw, 'systemMetricsInterval', { min: 0 }) ??
      envNum(env, 'CODEX_SYSTEM_METRICS_INTERVAL', { min: 0 }) ??
      10,
    monitoringEnableGpu:
      bool(raw, 'monitoringEnableGpu') ?? envBool(env, 'CODEX_MONITORING_ENABLE_GPU') ?? false,
    nvmlLibrary: str(raw, 'nvmlLibrary') ?? envStr(env, 'CODEX_NVML_LIBRARY'),
    cudaVisibleDevices: env.CUDA_VISIBLE_DEVICES,
    flushInterval:
      num(raw, 'flushInterval', { min: 0 }) ?? envNum(env, 'CODEX_FLUSH_INTERVAL', { min: 0 }) ?? 1,
    prometheus: (bool(raw, 'prometheus') ?? envBool(env, 'CODEX_PROMETHEUS') ?? false) && !otelSdkDisabled,
    prometheusHost: str(raw, 'prometheusHost') ?? envStr(env, 'OTEL_EXPORTER_PROMETHEUS_HOST') ?? '127.0.0.1',
    prometheusPort:
      num(raw, 'prometheusPort', { min: 0, max: 65535, integer: true }) ??
      envNum(env, 'OTEL_EXPORTER_PROMETHEUS_PORT', { min: 0, max: 65535, integer: true }) ??
      9464,
    otlp: (bool(raw, 'otlp') ?? otlpEndpointSet) && !otelSdkDisabled,
    serviceName: str(raw, 'serviceName') ?? envStr(env, 'OTEL_SERVICE_NAME') ?? 'codex-telemetry',
    rank: num(raw, 'rank', { min: 0, integer: true }) ?? envNum(env, 'RANK', { min: 0, integer: true }) ?? 0,
    localRank:
      num(raw, 'localRank', { min: 0, integer: true }) ??
      envNum(env, 'LOCAL_RANK', { min: 0, integer: true }) ??
      0,
    worldSize:
      num(raw, 'worldSize', { min: 1, integer: true }) ??
      envNum(env, 'WORLD_SIZE', { min: 1, integer: true }) ??
      1,
    config: record(raw, 'config') ?? {},
    installExitHandlers: bool(raw, 'installExitHandlers') ?? true,
    maxScalarNames: num(raw, 'maxScalarNames', { min: 1, integer: true }) ?? 1000,
    metricsRotateBytes:
      num(raw, 'metricsRotateBytes', { min: 0, integer: true }) ??
      envNum(env, 'CODEX_METRICS_ROTATE_BYTES', { min: 0, integer: true }) ??
      0,
    metricsRotateSeconds:
      num(raw, 'metricsRotateSeconds', { min: 0 }) ??
      envNum(env, 'CODEX_METRICS_ROTATE_SECONDS', { min: 0 }) ??
      0,
    metricsRotateKeep: num(raw, 'metricsRotateKeep', { min: 0, integer: true }) ?? 0,
    metricsRotateGzip: bool(raw, 'metricsRotateGzip') ?? false,
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

function str(raw: Record<string, unknown>, field: string): string | undefined {
  const value = raw[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ConfigError(field, value, 'a non-empty string');
  return value;
}

function bool(raw: Record<string, unknown>, field: string): boolean | undefined {
  const value = raw[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ConfigError(field, value, 'true or false');
  return value;
}

function record(raw: Record<string, unknown>, field: string): Record<string, unknown> | undefined {
  const value = raw[field];
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(field, value, 'a plain object');
  }
  return value as Record<string, unknown>;
}

interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

function checkNumber(field: string, value: unknown, rule: NumberRule): number {
  const expected = [
    rule.integer ? 'an integer' : 'a finite number',
    rule.min !== undefined ? `>= ${rule.min}` : '',
    rule.max !== undefined ? `<= ${rule.max}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(field, value, expected);
  if (rule.integer && !Number.isInteger(value)) throw new ConfigError(field, value, expected);
  if (rule.min !== undefined && value < rule.min) throw new ConfigError(field, value, expected);
  if (rule.max !== undefined && value > rule.max) throw new ConfigError(field, value, expected);
  return value;
}

function num(raw: Record<string, unknown>, field: string, rule: NumberRule): number | undefined {
  const value = raw[field];
  return value === undefined ? undefined : checkNumber(field, value, rule);
}

function envStr(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function envNum(env: Env, name: string, rule: NumberRule): number | undefined {
  const text = envStr(env, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (Number.isNaN(value)) throw new ConfigError(name, text, `a number (environment variable ${name})`);
  return checkNumber(name, value, rule);
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

function envBool(env: Env, name: string): boolean | undefined {
  const text = envStr(env, name)?.toLowerCase();
  if (text === undefined) return undefined;
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  throw new ConfigError(
    name,
    text,
    `one of 1/0, true/false, yes/no, on/off (environment variable ${name}, got ${describe(text)})`,
  );
}
