/**
 * Every TrainConfig field, declared once: its name, the runbook's snake_case alias, the environment
 * variables that set it, its kind and range, its default and one line of documentation.
 * Resolution (config.ts), the README configuration table (a test holds the two equal) and the
 * command-line flags of `demo`, `run` and `tail` (cli/options.ts) are all derived from this list,
 * so adding a knob is one entry here.
 */

export type FieldKind = 'string' | 'path' | 'boolean' | 'number' | 'integer' | 'object';

export interface FieldSpec {
  /** TypeScript name (a TrainConfig key). */
  readonly name: string;
  /** The runbook's snake_case spelling, accepted as an alias in a config object. */
  readonly alias: string;
  /** Environment variables, first set one wins. */
  readonly env: readonly string[];
  readonly kind: FieldKind;
  readonly min?: number;
  readonly max?: number;
  /** The default value; undefined when it is computed (see `defaultDoc`) or absent. */
  readonly default?: string | number | boolean | Readonly<Record<string, never>>;
  /** How README shows the default. */
  readonly defaultDoc: string;
  /** One line for README. */
  readonly doc: string;
  /** Command-line flag of demo/run/tail (`--flag VALUE`, or `--flag`/`--no-flag` for booleans). */
  readonly flag?: string;
}

export const CONFIG_FIELDS: readonly FieldSpec[] = [
  {
    name: 'runId',
    alias: 'run_id',
    env: ['CODEX_RUN_ID', 'WANDB_RUN_ID'],
    kind: 'string',
    defaultDoc: '8 random `[a-z0-9]`',
    doc: 'run identifier in every record; 1-128 characters of `[A-Za-z0-9_.-]`',
    flag: 'run-id',
  },
  {
    name: 'runName',
    alias: 'run_name',
    env: ['CODEX_RUN_NAME', 'WANDB_NAME'],
    kind: 'string',
    defaultDoc: '`run-<id>`',
    doc: 'TensorBoard run folder, W&B display name',
    flag: 'run-name',
  },
  {
    name: 'outDir',
    alias: 'out_dir',
    env: ['CODEX_OUT_DIR'],
    kind: 'path',
    default: '.',
    defaultDoc: '`.`',
    doc: 'base of every relative output path',
    flag: 'out',
  },
  {
    name: 'ndjson',
    alias: 'ndjson',
    env: ['CODEX_NDJSON'],
    kind: 'boolean',
    default: true,
    defaultDoc: '`true`',
    doc: 'write the NDJSON streams',
    flag: 'ndjson',
  },
  {
    name: 'metricsOut',
    alias: 'metrics_out',
    env: ['CODEX_METRICS_OUT'],
    kind: 'path',
    default: '.codex/metrics.ndjson',
    defaultDoc: '`.codex/metrics.ndjson`',
    doc: 'train + system stream (`run` and `tail` keep their own system samples in `.codex/bridge_system.ndjson`)',
  },
  {
    name: 'flushInterval',
    alias: 'flush_interval',
    env: ['CODEX_FLUSH_INTERVAL'],
    kind: 'number',
    min: 0,
    default: 1,
    defaultDoc: '`1` (s)',
    doc: 'file sinks flush at least this often',
    flag: 'flush-interval',
  },
  {
    name: 'tensorboard',
    alias: 'tensorboard',
    env: ['CODEX_TENSORBOARD'],
    kind: 'boolean',
    default: false,
    defaultDoc: '`false` (CLI: on)',
    doc: 'write TensorBoard event files',
    flag: 'tensorboard',
  },
  {
    name: 'tensorboardDir',
    alias: 'tensorboard_dir',
    env: ['CODEX_TENSORBOARD_DIR'],
    kind: 'path',
    default: 'runs',
    defaultDoc: '`runs`',
    doc: 'TensorBoard logdir',
  },
  {
    name: 'tensorboardRotateBytes',
    alias: 'tensorboard_rotate_bytes',
    env: [],
    kind: 'integer',
    min: 0,
    default: 0,
    defaultDoc: '`0` (off)',
    doc: 'start a new event file past this size',
  },
  {
    name: 'wandbEnable',
    alias: 'wandb_enable',
    env: ['CODEX_WANDB_ENABLE'],
    kind: 'boolean',
    default: false,
    defaultDoc: '`false` (CLI: on)',
    doc: 'write a W&B offline run; `WANDB_MODE=disabled` turns it off',
    flag: 'wandb',
  },
  {
    name: 'wandbDir',
    alias: 'wandb_dir',
    env: ['WANDB_DIR'],
    kind: 'path',
    default: 'wandb',
    defaultDoc: '`wandb`',
    doc: 'folder of `offline-run-*` directories',
  },
  {
    name: 'wandbProject',
    alias: 'wandb_project',
    env: ['WANDB_PROJECT'],
    kind: 'string',
    default: 'codex',
    defaultDoc: '`codex`',
    doc: 'recorded in the run for `wandb sync`',
  },
  {
    name: 'wandbEntity',
    alias: 'wandb_entity',
    env: ['WANDB_ENTITY'],
    kind: 'string',
    defaultDoc: 'none',
    doc: 'recorded in the run for `wandb sync`',
  },
  {
    name: 'systemMetricsInterval',
    alias: 'system_metrics_interval',
    env: ['CODEX_SYSTEM_METRICS_INTERVAL'],
    kind: 'number',
    min: 0,
    default: 10,
    defaultDoc: '`10` (s; demo 1, tail 0)',
    doc: 'system sampling period; `0` = no sampler, no timer',
    flag: 'system-metrics-interval',
  },
  {
    name: 'monitoringEnableGpu',
    alias: 'monitoring_enable_gpu',
    env: ['CODEX_MONITORING_ENABLE_GPU'],
    kind: 'boolean',
    default: false,
    defaultDoc: '`false`',
    doc: 'sample NVIDIA GPUs through NVML',
    flag: 'gpu',
  },
  {
    name: 'nvmlLibrary',
    alias: 'nvml_library',
    env: ['CODEX_NVML_LIBRARY'],
    kind: 'string',
    defaultDoc: '`libnvidia-ml.so.1`',
    doc: 'NVML shared library; `CUDA_VISIBLE_DEVICES` is honoured',
  },
  {
    name: 'prometheus',
    alias: 'prometheus',
    env: ['CODEX_PROMETHEUS'],
    kind: 'boolean',
    default: false,
    defaultDoc: '`false` (CLI: on)',
    doc: 'serve `/metrics`; `OTEL_SDK_DISABLED=true` turns it off',
    flag: 'prometheus',
  },
  {
    name: 'prometheusHost',
    alias: 'prometheus_host',
    env: ['OTEL_EXPORTER_PROMETHEUS_HOST'],
    kind: 'string',
    default: '127.0.0.1',
    defaultDoc: '`127.0.0.1`',
    doc: 'bind address; other hosts are an explicit choice',
    flag: 'prometheus-host',
  },
  {
    name: 'prometheusPort',
    alias: 'prometheus_port',
    env: ['OTEL_EXPORTER_PROMETHEUS_PORT'],
    kind: 'integer',
    min: 0,
    max: 65535,
    default: 9464,
    defaultDoc: '`9464`',
    doc: '`0` = any free port; rank `r` uses `port + LOCAL_RANK`',
    flag: 'prometheus-port',
  },
  {
    name: 'otlp',
    alias: 'otlp',
    env: [],
    kind: 'boolean',
    defaultDoc: 'on when an endpoint is set',
    doc: 'OTLP/HTTP push to `OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT` (checked as a URL at start); `OTEL_SDK_DISABLED=true` turns it off',
  },
  {
    name: 'otlpShutdownTimeout',
    alias: 'otlp_shutdown_timeout',
    env: ['CODEX_OTLP_SHUTDOWN_TIMEOUT'],
    kind: 'number',
    min: 0,
    default: 2,
    defaultDoc: '`2` (s)',
    doc: 'the longest shutdown waits for an unreachable collector',
  },
  {
    name: 'serviceName',
    alias: 'service_name',
    env: ['OTEL_SERVICE_NAME'],
    kind: 'string',
    default: 'codex-telemetry',
    defaultDoc: '`codex-telemetry`',
    doc: '`service.name`; `OTEL_RESOURCE_ATTRIBUTES` adds resource attributes',
  },
  {
    name: 'rank',
    alias: 'rank',
    env: ['RANK'],
    kind: 'integer',
    min: 0,
    default: 0,
    defaultDoc: '`0`',
    doc: 'rank tag on every record; rank N > 0 writes `*.rankN.ndjson`, TensorBoard run `<runName>-rankN`, no W&B run',
  },
  {
    name: 'localRank',
    alias: 'local_rank',
    env: ['LOCAL_RANK'],
    kind: 'integer',
    min: 0,
    default: 0,
    defaultDoc: '`0`',
    doc: 'only local rank 0 samples the host and GPUs',
  },
  {
    name: 'worldSize',
    alias: 'world_size',
    env: ['WORLD_SIZE'],
    kind: 'integer',
    min: 1,
    default: 1,
    defaultDoc: '`1`',
    doc: 'number of ranks; `rank` must be below it',
  },
  {
    name: 'maxScalarNames',
    alias: 'max_scalar_names',
    env: [],
    kind: 'integer',
    min: 1,
    default: 1000,
    defaultDoc: '`1000`',
    doc: 'scalar names exported to Prometheus/OTLP; more are reported and counted',
  },
  {
    name: 'metricsRotateBytes',
    alias: 'metrics_rotate_bytes',
    env: ['CODEX_METRICS_ROTATE_BYTES'],
    kind: 'integer',
    min: 0,
    default: 0,
    defaultDoc: '`0` (off)',
    doc: 'rotate NDJSON streams past this size',
    flag: 'metrics-rotate-bytes',
  },
  {
    name: 'metricsRotateSeconds',
    alias: 'metrics_rotate_seconds',
    env: ['CODEX_METRICS_ROTATE_SECONDS'],
    kind: 'number',
    min: 0,
    default: 0,
    defaultDoc: '`0` (off)',
    doc: 'rotate NDJSON streams this often',
  },
  {
    name: 'metricsRotateKeep',
    alias: 'metrics_rotate_keep',
    env: [],
    kind: 'integer',
    min: 0,
    default: 0,
    defaultDoc: '`0` (all)',
    doc: 'keep at most this many closed segments',
  },
  {
    name: 'metricsRotateGzip',
    alias: 'metrics_rotate_gzip',
    env: [],
    kind: 'boolean',
    default: false,
    defaultDoc: '`false`',
    doc: 'gzip closed segments',
  },
  {
    name: 'config',
    alias: 'config',
    env: [],
    kind: 'object',
    default: {},
    defaultDoc: '`{}`',
    doc: 'hyperparameters recorded with the run',
  },
  {
    name: 'installExitHandlers',
    alias: 'install_exit_handlers',
    env: [],
    kind: 'boolean',
    default: true,
    defaultDoc: '`true`',
    doc: 'flush on SIGINT/SIGTERM/`beforeExit`/`exit`',
  },
];

export const FIELD_BY_NAME: ReadonlyMap<string, FieldSpec> = new Map(CONFIG_FIELDS.map((f) => [f.name, f]));
export const FIELD_BY_ALIAS: ReadonlyMap<string, FieldSpec> = new Map(CONFIG_FIELDS.map((f) => [f.alias, f]));

/** Rows README shows besides the fields: settings that are not TrainConfig fields. */
export const EXTRA_DOC_ROWS: readonly (readonly [string, string, string, string])[] = [
  [
    '`EvaluationConfig.metricsFilename`',
    '`CODEX_EVAL_METRICS_OUT`',
    '`.codex/eval_metrics.ndjson`',
    'eval stream (`tags.phase = "eval"`)',
  ],
  ['', '`WANDB_MODE`', '`offline`', '`disabled` turns W&B off; any other mode writes an offline run'],
  ['', '`OTEL_SDK_DISABLED`', '', '`true` turns Prometheus and OTLP off (file sinks stay)'],
  ['', '`GIT_SHA`', '', 'commit recorded as `git_sha` in `run_manifest.json`'],
];

/** The README configuration table's rows (field, environment, default, meaning), in order. */
export function configTableRows(): string[][] {
  return [
    ...CONFIG_FIELDS.map((f) => [
      `\`${f.name}\``,
      f.env.map((e) => `\`${e}\``).join(', '),
      f.defaultDoc,
      f.doc,
    ]),
    ...EXTRA_DOC_ROWS.map((row) => [...row]),
  ];
}

/** The README table as markdown (prettier pads the columns; the test compares cells). */
export function configTableMarkdown(): string {
  const header = ['field', 'environment', 'default', 'meaning'];
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...configTableRows().map(line)].join('\n');
}
