/**
 * What the sink commands share: their streams, and the TrainConfig built from flags, the
 * environment and the command's own defaults (in that order of precedence).
 */
import { resolveTrainConfig, withCommandDefaults, type TrainConfig } from '../config/train-config.js';
import type { SinkOptions } from './parse-cli.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/**
 * The TrainConfig of demo/run/tail. Resolving it here first means a bad flag or environment value
 * is reported before anything is opened.
 */
export function cliTrainConfig(
  options: SinkOptions,
  defaults: Partial<TrainConfig>,
  env: NodeJS.ProcessEnv,
): TrainConfig {
  const config = withCommandDefaults(options.config, defaults, env);
  resolveTrainConfig(config, env);
  return config;
}

/** Diagnostics go to stderr as single lines, without Node's `(node:PID) Warning:` framing. */
export function stderrLines(io: CliIo): (line: string) => void {
  return (line) => {
    io.stderr.write(`${line.replace(/\n+$/, '').replace(/\n/g, ' ')}\n`);
  };
}
