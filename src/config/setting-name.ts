/**
 * How a hint names a setting, so it names what the user typed: under the CLIs, the command-line
 * flag (`--prometheus-port`, `--no-gpu`), which wins over the environment; in a program that calls
 * startTelemetry, the config field with its environment variable.
 */
import { CONFIG_FIELDS } from './fields.js';

let byFlag = false;

/** The CLIs call this once at start: hints then name flags. */
export function nameSettingsByFlag(): void {
  byFlag = true;
}

/** Whether hints name flags: a worker thread (the system sampler's) is told, as it starts with its own modules. */
export function settingsNamedByFlag(): boolean {
  return byFlag;
}

/**
 * `field` as a hint names it; `turnOff` for a boolean the hint says to turn off (`--no-gpu`,
 * `monitoringEnableGpu: false (CODEX_MONITORING_ENABLE_GPU=0)`).
 */
export function settingName(field: string, turnOff = false): string {
  const spec = CONFIG_FIELDS.find((f) => f.name === field);
  if (spec === undefined) throw new Error(`settingName: no config field ${field}`);
  const env = spec.env[0];
  if (byFlag && spec.flag !== undefined) return turnOff ? `--no-${spec.flag}` : `--${spec.flag}`;
  if (byFlag && env !== undefined) return turnOff ? `${env}=0` : env;
  if (turnOff) return `${field}: false${env === undefined ? '' : ` (${env}=0)`}`;
  return env === undefined ? field : `${field} (${env})`;
}
