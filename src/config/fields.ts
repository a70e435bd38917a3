/**
 * Every TrainConfig field, declared once: its name, the runbook's snake_case alias, the environment
 * variables that set it, its kind and range, its default and one line of documentation.
 * Resolution (config.ts), the README configuration table (a test holds the two equal) and the
 * command-line flags of `demo`, `run` and `tail` (cli/options.ts) are all derived from this list,
 * so adding a knob is one entry here.
 */

import { OUTPUT_FIELDS } from './fields-outputs.js';
import { RUNTIME_FIELDS } from './fields-runtime.js';

export type { FieldKind, FieldSpec } from './field-spec.js';
import type { FieldSpec } from './field-spec.js';

export const CONFIG_FIELDS: readonly FieldSpec[] = [...OUTPUT_FIELDS, ...RUNTIME_FIELDS];

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
      rangeDoc(f),
      f.doc,
    ]),
    ...EXTRA_DOC_ROWS.map((row) => [row[0], row[1], row[2], '', row[3]]),
  ];
}

/** The accepted values of a numeric field, from the same min/max that validation enforces. */
export function rangeDoc(field: FieldSpec): string {
  if (field.kind !== 'number' && field.kind !== 'integer') return '';
  const kind = field.kind === 'integer' ? 'integer' : 'number';
  if (field.min !== undefined && field.max !== undefined) return `${kind} ${field.min} to ${field.max}`;
  if (field.min !== undefined) return `${kind} >= ${field.min}`;
  if (field.max !== undefined) return `${kind} <= ${field.max}`;
  return kind;
}
