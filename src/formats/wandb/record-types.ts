/**
 * `wandb_internal.Record` and the messages it carries, in protobuf's canonical JSON form (proto
 * field names; int64/uint64 as decimal strings when decoded; Timestamps as RFC 3339 strings;
 * enums by name; default values absent). It is the form W&B's own tools print, which lets the
 * golden vectors be compared as they are. Encoding also accepts numbers and bigints for int64s.
 *
 * Only the fields this package writes or needs to read back are modelled; others are skipped
 * when decoding.
 */

export type Int64 = string | number | bigint;
/** RFC 3339 in UTC, e.g. `2025-01-01T00:00:02.250Z`. */
export type TimestampJson = string;

export interface KeyedItem {
  key?: string;
  nested_key?: string[];
  value_json?: string;
}

export interface ConfigRecord {
  update?: KeyedItem[];
  remove?: KeyedItem[];
}
export type SummaryRecord = ConfigRecord;

export interface HistoryRecord {
  item?: KeyedItem[];
  step?: { num?: Int64 };
}

export interface StatsRecord {
  stats_type?: 'SYSTEM';
  timestamp?: TimestampJson;
  item?: Array<{ key?: string; value_json?: string }>;
}

export interface HeaderRecord {
  version_info?: { producer?: string; min_consumer?: string };
}

export interface TelemetryRecord {
  python_version?: string;
  cli_version?: string;
  huggingface_version?: string;
  core_version?: string;
  platform?: string;
}

export interface RunRecord {
  run_id?: string;
  entity?: string;
  project?: string;
  config?: ConfigRecord;
  summary?: SummaryRecord;
  run_group?: string;
  job_type?: string;
  display_name?: string;
  notes?: string;
  tags?: string[];
  sweep_id?: string;
  host?: string;
  starting_step?: Int64;
  storage_id?: string;
  start_time?: TimestampJson;
  resumed?: boolean;
  telemetry?: TelemetryRecord;
  runtime?: number;
  git?: { remote_url?: string; commit?: string };
  forked?: boolean;
}

export interface RunExitRecord {
  exit_code?: number;
  runtime?: number;
  not_complete?: boolean;
}

export interface FilesRecord {
  files?: Array<{
    path?: string;
    policy?: 'NOW' | 'END' | 'LIVE';
    type?: 'OTHER' | 'WANDB' | 'MEDIA' | 'ARTIFACT';
  }>;
}

export interface OutputRawRecord {
  output_type?: 'STDERR' | 'STDOUT';
  timestamp?: TimestampJson;
  line?: string;
}

export interface MetricRecord {
  name?: string;
  glob_name?: string;
  step_metric?: string;
  step_metric_index?: number;
  options?: { step_sync?: boolean; hidden?: boolean; defined?: boolean };
  summary?: Partial<Record<'min' | 'max' | 'mean' | 'best' | 'last' | 'none' | 'copy' | 'first', boolean>>;
  goal?: 'GOAL_UNSET' | 'GOAL_MINIMIZE' | 'GOAL_MAXIMIZE';
  _control?: { overwrite?: boolean };
  expanded_from_glob?: boolean;
}

export interface EnvironmentRecord {
  os?: string;
  python?: string;
  started_at?: TimestampJson;
  docker?: string;
  args?: string[];
  program?: string;
  code_path?: string;
  code_path_local?: string;
  git?: { remote_url?: string; commit?: string };
  email?: string;
  root?: string;
  host?: string;
  username?: string;
  executable?: string;
  colab?: string;
  cpu_count?: number;
  cpu_count_logical?: number;
  gpu_type?: string;
  gpu_count?: number;
  /** A protobuf map (path → DiskInfo), modelled as its wire form: repeated {key, value} entries. */
  disk?: Array<{ key?: string; value?: { total?: Int64; used?: Int64 } }>;
  memory?: { total?: Int64 };
  cpu?: { count?: number; count_logical?: number };
  gpu_nvidia?: Array<{
    name?: string;
    memory_total?: Int64;
    cuda_cores?: number;
    architecture?: string;
    uuid?: string;
  }>;
  cuda_version?: string;
  writer_id?: string;
}

/** The record bodies, by the name of their field in `Record.record_type`. */
export interface RecordBodies {
  history: HistoryRecord;
  summary: SummaryRecord;
  output: OutputRawRecord;
  config: ConfigRecord;
  files: FilesRecord;
  stats: StatsRecord;
  telemetry: TelemetryRecord;
  metric: MetricRecord;
  output_raw: OutputRawRecord;
  run: RunRecord;
  exit: RunExitRecord;
  final: Record<string, never>;
  header: HeaderRecord;
  footer: Record<string, never>;
  preempting: Record<string, never>;
  environment: EnvironmentRecord;
}

export type RecordType = keyof RecordBodies;

export const RECORD_TYPES: readonly RecordType[] = [
  'history',
  'summary',
  'output',
  'config',
  'files',
  'stats',
  'telemetry',
  'metric',
  'output_raw',
  'run',
  'exit',
  'final',
  'header',
  'footer',
  'preempting',
  'environment',
];

export type WandbRecord = { num?: Int64; uuid?: string } & Partial<RecordBodies>;

/** The record's type (the `record_type` oneof member that is set), or undefined for one we do not model. */
export function recordType(record: WandbRecord): RecordType | undefined {
  for (const type of RECORD_TYPES) if (record[type] !== undefined) return type;
  return undefined;
}
