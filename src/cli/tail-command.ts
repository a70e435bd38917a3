/**
 * `codex-telemetry tail FILE...`: replays NDJSON files into every sink. `--from-start` replays
 * what the files already hold; `--follow` keeps reading until SIGINT/SIGTERM, then flushes.
 * Quoted globs are expanded here, and each stream is read once however often it is named.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode, errorText, USAGE_EXIT_CODE } from '../errors.js';
import { TailBridge } from '../bridge/tail-bridge.js';
import { streamRunId } from '../bridge/stream-run-id.js';
import type { TrainConfig } from '../config/train-config.js';
import { planStreams } from '../ndjson/stream-files.js';
import { startBridgeTelemetry } from './cli-dashboard.js';
import type { CommandIo } from '../command-line/command-io.js';
import { cliTrainConfig, stderrLines } from './cli-io.js';
import { expandGlob, GLOB_CHARS } from '../ndjson/glob.js';
import type { SinkOptions } from './parse-cli.js';

const TAIL_DEFAULTS = {
  metricsOut: '.codex/bridge_system.ndjson',
  systemMetricsInterval: 0,
  tensorboard: true,
  wandbEnable: true,
  prometheus: true,
  // The bridge handles SIGINT/SIGTERM itself: read what is left, then shut down.
  installExitHandlers: false,
} as const;

/** Expands globs the shell left alone; a pattern that matches nothing is kept, to be reported. */
export function expandInputs(inputs: readonly string[]): string[] {
  return inputs.flatMap((input) => {
    if (!GLOB_CHARS.test(input) || fs.existsSync(input)) return [input];
    const matched = expandGlob(input);
    return matched.length > 0 ? matched : [input];
  });
}

/**
 * A replay keeps the run id its stream was written under (unless --run-id or the environment names
 * one), so its TensorBoard and W&B runs match the original's; streams of several runs get a new
 * id, and the user is told why.
 */
function keepStreamRunId(
  config: TrainConfig,
  files: readonly string[],
  env: NodeJS.ProcessEnv,
  warn: (line: string) => void,
): void {
  if (config.runId !== undefined || env.CODEX_RUN_ID !== undefined || env.WANDB_RUN_ID !== undefined) return;
  const found = streamRunId(files);
  if (found.kind === 'one' && /^[A-Za-z0-9_.-]{1,128}$/.test(found.runId)) config.runId = found.runId;
  else if (found.kind === 'one')
    warn(
      `tail: the stream's run id ${JSON.stringify(found.runId)} is not a valid run id here; replaying under a new one`,
    );
  else if (found.kind === 'several')
    warn(
      `tail: the streams were written by runs ${found.runIds.join(', ')}; they are replayed as one new run (--run-id ID names it)`,
    );
}

function isFolder(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return false;
    throw error;
  }
}

export async function runTail(options: SinkOptions, inputs: string[], io: CommandIo): Promise<number> {
  const warn = stderrLines(io);
  const replayOnly = !options.follow;
  const plan = planStreams(expandInputs(inputs));
  for (const { file, reason } of plan.skipped) warn(`tail: reading ${file} once (${reason})`);
  // Settings first: a bad flag or variable is a usage error whatever the files.
  const config = cliTrainConfig(
    { ...options, config: { ...options.config, metricsOut: TAIL_DEFAULTS.metricsOut } },
    TAIL_DEFAULTS,
    io.env,
  );
  keepStreamRunId(config, plan.files, io.env, warn);
  // A folder is no stream: said before anything opens (no W&B run, no .owner file left behind).
  const folders = plan.files.filter((file) => isFolder(file));
  if (folders.length > 0) {
    warn(
      `tail: ${folders.join(', ')} ${folders.length === 1 ? 'is a folder' : 'are folders'}, not NDJSON files; name the streams, e.g. '${path.join(folders[0] as string, '*.ndjson')}'`,
    );
    return USAGE_EXIT_CODE;
  }
  // Without --follow there is nothing to wait for: a missing file is an error, before anything opens.
  if (replayOnly) {
    const missing = plan.files.filter((file) => !fs.existsSync(file));
    if (missing.length > 0) {
      const what = missing.map((file) =>
        GLOB_CHARS.test(file) ? `${file} (the pattern matches no file)` : file,
      );
      // An input that names nothing is a usage error, as in summarize and dashboard.
      warn(`tail: no such file: ${what.join(', ')}; pass --follow to wait for a file to appear`);
      return USAGE_EXIT_CODE;
    }
  }
  // Ctrl-C is ours from before the first line is printed (the metrics URL tells a user, or a
  // script, that the bridge runs): a signal then still reads what is there and flushes it.
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  if (options.follow) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  try {
    return await tailInto(options, plan.files, config, replayOnly, controller.signal, io, warn);
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}

async function tailInto(
  options: SinkOptions,
  files: string[],
  config: ReturnType<typeof cliTrainConfig>,
  replayOnly: boolean,
  signal: AbortSignal,
  io: CommandIo,
  warn: (message: string) => void,
): Promise<number> {
  // CODEX_METRICS_OUT names the stream tailed, not the bridge's own system stream.
  const env = { ...io.env, CODEX_METRICS_OUT: undefined };
  const { telemetry, dashboard } = await startBridgeTelemetry({
    config,
    env,
    dashboard: options.dashboard,
    streams: (running) => [...files, running.paths.metricsOut],
    warn,
    command: 'tail',
  });
  const bridge = new TailBridge({
    files,
    fromStart: options.fromStart || replayOnly,
    telemetry,
    warn,
    info: warn,
    maxLineBytes: options.maxLineBytes,
  });
  try {
    if (options.follow) await bridge.follow(signal);
    else await bridge.drain();
  } catch (error) {
    // Every sink is closed with the outcome (a W&B run with its exit record, the .owner claims
    // released), and the reason is one line naming the file.
    await telemetry.shutdown(1);
    dashboard.stop();
    warn(`tail: cannot read the streams: ${errorText(error)}`);
    return 1;
  }
  await telemetry.shutdown(0);
  dashboard.stop();
  const { lines, rows, malformed, resets } = bridge.stats;
  io.stdout.write(
    `tail: ${lines} lines, ${rows} rows replayed, ${malformed} malformed, ${resets} truncations/rotations\n`,
  );
  return 0;
}
