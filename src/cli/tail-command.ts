/**
 * `codex-telemetry tail FILE...`: replays NDJSON files into every sink. `--from-start` replays
 * what the files already hold; `--follow` keeps reading until SIGINT/SIGTERM, then flushes.
 */
import path from 'node:path';
import { TailBridge } from '../bridge/tail-bridge.js';
import { CliDashboard } from './cli-dashboard.js';
import { startTelemetry } from '../telemetry.js';
import { trainConfigFromFlags, type CliIo } from './demo.js';
import type { SinkOptions } from './parse-cli.js';

export async function runTail(
  options: SinkOptions,
  files: string[],
  mode: { fromStart: boolean; follow: boolean },
  io: CliIo,
): Promise<number> {
  const out = path.resolve(options.out ?? '.');
  const dashboard = new CliDashboard();
  const telemetry = await startTelemetry(
    trainConfigFromFlags(options, {
      metricsOut: path.join(out, '.codex/bridge_system.ndjson'),
      systemMetricsInterval: 0,
      // The bridge handles SIGINT/SIGTERM itself: read what is left, then shut down.
      installExitHandlers: false,
    }),
    {
      env: io.env,
      ndjsonPhases: ['system'],
      info: (line) => io.stderr.write(`${line}\n`),
      warn: (line) => io.stderr.write(`${line}\n`),
      httpRoutes: options.dashboard ? dashboard.routes : undefined,
    },
  );
  if (options.dashboard) {
    const paths = telemetry.paths;
    const line = await dashboard.start(
      () => [...files.map((f) => path.resolve(f)), paths.metricsOut],
      telemetry.config.prometheusHost,
      paths.metricsUrl,
    );
    io.stderr.write(`${line ?? 'tail: no dashboard, /metrics could not be served'}\n`);
  }
  const bridge = new TailBridge({
    files: files.map((file) => path.resolve(file)),
    // Without --follow there is nothing to wait for, so replay what is there.
    fromStart: mode.fromStart || !mode.follow,
    telemetry,
    warn: (line) => io.stderr.write(`${line}\n`),
  });
  if (mode.follow) {
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await bridge.follow(controller.signal);
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  } else {
    await bridge.drain();
  }
  await telemetry.shutdown(0);
  dashboard.stop();
  const { lines, rows, malformed, resets } = bridge.stats;
  io.stderr.write(
    `tail: ${lines} lines, ${rows} rows replayed, ${malformed} malformed, ${resets} truncations/rotations\n`,
  );
  return 0;
}
