/**
 * `codex-telemetry tail FILE...`: replays NDJSON files into every sink. `--from-start` replays
 * what the files already hold; `--follow` keeps reading until SIGINT/SIGTERM, then flushes.
 * Quoted globs are expanded here, and each stream is read once however often it is named.
 */
import fs from 'node:fs';
import { TailBridge } from '../bridge/tail-bridge.js';
import { planStreams } from '../ndjson/stream-files.js';
import { startBridgeTelemetry } from './cli-dashboard.js';
import { cliTrainConfig, stderrLines, type CliIo } from './cli-io.js';
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

export async function runTail(options: SinkOptions, inputs: string[], io: CliIo): Promise<number> {
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
  // Without --follow there is nothing to wait for: a missing file is an error, before anything opens.
  if (replayOnly) {
    const missing = plan.files.filter((file) => !fs.existsSync(file));
    if (missing.length > 0) {
      const what = missing.map((file) =>
        GLOB_CHARS.test(file) ? `${file} (the pattern matches no file)` : file,
      );
      warn(`tail: no such file: ${what.join(', ')}; pass --follow to wait for a file to appear`);
      return 1;
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
  io: CliIo,
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
  if (options.follow) await bridge.follow(signal);
  else await bridge.drain();
  await telemetry.shutdown(0);
  dashboard.stop();
  const { lines, rows, malformed, resets } = bridge.stats;
  io.stdout.write(
    `tail: ${lines} lines, ${rows} rows replayed, ${malformed} malformed, ${resets} truncations/rotations\n`,
  );
  return 0;
}
