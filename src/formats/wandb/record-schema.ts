/**
 * Field numbers and types of the `wandb_internal` messages we model (wandb/proto/
 * wandb_internal.proto and wandb_telemetry.proto). One table drives both the encoder and the
 * decoder, so the two cannot disagree. Fields are listed in field-number order, the order
 * protobuf serializers write them in (byte-identical output depends on it).
 */

export type ScalarKind = 'string' | 'int64' | 'uint64' | 'int32' | 'uint32' | 'bool';
export type FieldKind =
  ScalarKind | { timestamp: true } | { enum: readonly string[] } | { message: MessageSchema };

export interface FieldSchema {
  no: number;
  name: string;
  kind: FieldKind;
  repeated?: boolean;
}

export type MessageSchema = readonly FieldSchema[];

const TIMESTAMP: FieldKind = { timestamp: true };
const EMPTY: MessageSchema = [];

const f = (no: number, name: string, kind: FieldKind, repeated = false): FieldSchema =>
  repeated ? { no, name, kind, repeated } : { no, name, kind };

const KEYED_ITEM: MessageSchema = [
  f(1, 'key', 'string'),
  f(2, 'nested_key', 'string', true),
  f(16, 'value_json', 'string'),
];
const UPDATE_REMOVE: MessageSchema = [
  f(1, 'update', { message: KEYED_ITEM }, true),
  f(2, 'remove', { message: KEYED_ITEM }, true),
];
const HISTORY: MessageSchema = [
  f(1, 'item', { message: KEYED_ITEM }, true),
  f(2, 'step', { message: [f(1, 'num', 'int64')] }),
];
const STATS: MessageSchema = [
  f(1, 'stats_type', { enum: ['SYSTEM'] }),
  f(2, 'timestamp', TIMESTAMP),
  f(3, 'item', { message: [f(1, 'key', 'string'), f(16, 'value_json', 'string')] }, true),
];
const HEADER: MessageSchema = [
  f(1, 'version_info', { message: [f(1, 'producer', 'string'), f(2, 'min_consumer', 'string')] }),
];
const TELEMETRY: MessageSchema = [
  f(4, 'python_version', 'string'),
  f(5, 'cli_version', 'string'),
  f(6, 'huggingface_version', 'string'),
  f(12, 'core_version', 'string'),
  f(13, 'platform', 'string'),
];
const GIT: MessageSchema = [f(1, 'remote_url', 'string'), f(2, 'commit', 'string')];
const RUN: MessageSchema = [
  f(1, 'run_id', 'string'),
  f(2, 'entity', 'string'),
  f(3, 'project', 'string'),
  f(4, 'config', { message: UPDATE_REMOVE }),
  f(5, 'summary', { message: UPDATE_REMOVE }),
  f(6, 'run_group', 'string'),
  f(7, 'job_type', 'string'),
  f(8, 'display_name', 'string'),
  f(9, 'notes', 'string'),
  f(10, 'tags', 'string', true),
  f(12, 'sweep_id', 'string'),
  f(13, 'host', 'string'),
  f(14, 'starting_step', 'int64'),
  f(16, 'storage_id', 'string'),
  f(17, 'start_time', TIMESTAMP),
  f(18, 'resumed', 'bool'),
  f(19, 'telemetry', { message: TELEMETRY }),
  f(20, 'runtime', 'int32'),
  f(21, 'git', { message: GIT }),
  f(22, 'forked', 'bool'),
];
const EXIT: MessageSchema = [
  f(1, 'exit_code', 'int32'),
  f(2, 'runtime', 'int32'),
  f(3, 'not_complete', 'bool'),
];
const FILES: MessageSchema = [
  f(
    1,
    'files',
    {
      message: [
        f(1, 'path', 'string'),
        f(2, 'policy', { enum: ['NOW', 'END', 'LIVE'] }),
        f(3, 'type', { enum: ['OTHER', 'WANDB', 'MEDIA', 'ARTIFACT'] }),
      ],
    },
    true,
  ),
];
const OUTPUT: MessageSchema = [
  f(1, 'output_type', { enum: ['STDERR', 'STDOUT'] }),
  f(2, 'timestamp', TIMESTAMP),
  f(3, 'line', 'string'),
];
const METRIC_SUMMARY_FLAGS = ['min', 'max', 'mean', 'best', 'last', 'none', 'copy', 'first'];
const METRIC: MessageSchema = [
  f(1, 'name', 'string'),
  f(2, 'glob_name', 'string'),
  f(4, 'step_metric', 'string'),
  f(5, 'step_metric_index', 'int32'),
  f(6, 'options', {
    message: [f(1, 'step_sync', 'bool'), f(2, 'hidden', 'bool'), f(3, 'defined', 'bool')],
  }),
  f(7, 'summary', { message: METRIC_SUMMARY_FLAGS.map((name, i) => f(i + 1, name, 'bool')) }),
  f(8, 'goal', { enum: ['GOAL_UNSET', 'GOAL_MINIMIZE', 'GOAL_MAXIMIZE'] }),
  f(9, '_control', { message: [f(1, 'overwrite', 'bool')] }),
  f(10, 'expanded_from_glob', 'bool'),
];
const ENVIRONMENT: MessageSchema = [
  f(1, 'os', 'string'),
  f(2, 'python', 'string'),
  f(3, 'started_at', TIMESTAMP),
  f(4, 'docker', 'string'),
  f(5, 'args', 'string', true),
  f(6, 'program', 'string'),
  f(7, 'code_path', 'string'),
  f(8, 'code_path_local', 'string'),
  f(9, 'git', { message: GIT }),
  f(10, 'email', 'string'),
  f(11, 'root', 'string'),
  f(12, 'host', 'string'),
  f(13, 'username', 'string'),
  f(14, 'executable', 'string'),
  f(15, 'colab', 'string'),
  f(16, 'cpu_count', 'uint32'),
  f(17, 'cpu_count_logical', 'uint32'),
  f(18, 'gpu_type', 'string'),
  f(19, 'gpu_count', 'uint32'),
  // map<string, DiskInfo>: on the wire, repeated entries {key=1, value=2}.
  f(
    20,
    'disk',
    {
      message: [
        f(1, 'key', 'string'),
        f(2, 'value', { message: [f(1, 'total', 'uint64'), f(2, 'used', 'uint64')] }),
      ],
    },
    true,
  ),
  f(21, 'memory', { message: [f(1, 'total', 'uint64')] }),
  f(22, 'cpu', { message: [f(1, 'count', 'uint32'), f(2, 'count_logical', 'uint32')] }),
  f(
    24,
    'gpu_nvidia',
    {
      message: [
        f(1, 'name', 'string'),
        f(2, 'memory_total', 'uint64'),
        f(3, 'cuda_cores', 'uint32'),
        f(4, 'architecture', 'string'),
        f(5, 'uuid', 'string'),
      ],
    },
    true,
  ),
  f(25, 'cuda_version', 'string'),
  f(199, 'writer_id', 'string'),
];

/** `wandb_internal.Record`: `num`, the `record_type` oneof members we model, and `uuid`. */
export const RECORD_SCHEMA: MessageSchema = [
  f(1, 'num', 'int64'),
  f(2, 'history', { message: HISTORY }),
  f(3, 'summary', { message: UPDATE_REMOVE }),
  f(4, 'output', { message: OUTPUT }),
  f(5, 'config', { message: UPDATE_REMOVE }),
  f(6, 'files', { message: FILES }),
  f(7, 'stats', { message: STATS }),
  f(11, 'telemetry', { message: TELEMETRY }),
  f(12, 'metric', { message: METRIC }),
  f(13, 'output_raw', { message: OUTPUT }),
  f(17, 'run', { message: RUN }),
  f(18, 'exit', { message: EXIT }),
  f(19, 'uuid', 'string'),
  f(20, 'final', { message: EMPTY }),
  f(21, 'header', { message: HEADER }),
  f(22, 'footer', { message: EMPTY }),
  f(23, 'preempting', { message: EMPTY }),
  f(26, 'environment', { message: ENVIRONMENT }),
];
