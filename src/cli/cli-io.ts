/**
 * What the sink commands share: the TrainConfig built from flags, the environment and the
 * command's own defaults (in that order of precedence), and one-line diagnostics.
 */
import type { CommandIo } from '../command-line/command-io.js';
import { resolveTrainConfig, withCommandDefaults, type TrainConfig } from '../config/train-config.js';
import type { SinkOptions } from './parse-cli.js';

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
export function stderrLines(io: Pick<CommandIo, 'stderr'>): (line: string) => void {
  return (line) => {
    io.stderr.write(`${line.replace(/\n+$/, '').replace(/\n/g, ' ')}\n`);
  };
}
