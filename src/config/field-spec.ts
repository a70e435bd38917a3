/** The shape of one TrainConfig field declaration (the tables in fields-*.ts). */
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
  /** For a string field: the only values accepted (from code, environment or flag). */
  readonly choices?: readonly string[];
  /** The default value; undefined when it is computed (see `defaultDoc`) or absent. */
  readonly default?: string | number | boolean | Readonly<Record<string, never>>;
  /** How README shows the default. */
  readonly defaultDoc: string;
  /** One line for README. */
  readonly doc: string;
  /** Command-line flag of demo/run/tail (`--flag VALUE`, or `--flag`/`--no-flag` for booleans). */
  readonly flag?: string;
}
