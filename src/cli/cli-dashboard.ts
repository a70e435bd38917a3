/**
 * `--dashboard` for demo, run and tail: the dashboard's routes on the /metrics server (under `/`),
 * reading the streams the command writes or follows. The routes exist before the server starts
 * (they are handed to startTelemetry); the streams are known after, so they are bound late.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Handler } from '../dashboard/http-handler.js';
import type { LiveRuns } from '../dashboard/live-runs.js';
import type { HttpRoutes } from '../pipeline/sink-definition.js';
import type { TrainConfig } from '../config/train-config.js';
import { startTelemetry, type Telemetry } from '../telemetry.js';

export class CliDashboard {
  private live: LiveRuns | undefined;
  private handler: Handler | undefined;

  /** Answers nothing (a 404 from /metrics' server) until `start`. */
  readonly routes: HttpRoutes = (request: IncomingMessage, response: ServerResponse) =>
    this.handler?.(request, response) ?? false;

  /**
   * Starts reading `inputs` (files that may not exist yet are picked up when they appear) and
   * returns the line to print, or undefined when /metrics is not served (the page would have no server).
   */
  async start(
    files: () => readonly (string | undefined)[],
    host: string,
    metricsUrl: string | undefined,
  ): Promise<string | undefined> {
    if (metricsUrl === undefined) return undefined;
    // Files, not their folders: a folder would be walked, and a stream in the working folder would
    // make that every file under it. Rotated segments of a file are still found.
    const inputs = (): string[] => [...new Set(files().filter((f): f is string => f !== undefined))];
    // Loaded on use, so `run` without --dashboard starts (and installs its signal handlers) as fast as before.
    const [{ dashboardHandler }, { LiveRuns }, { allowedRoots }] = await Promise.all([
      import('../dashboard/http-handler.js'),
      import('../dashboard/live-runs.js'),
      import('../dashboard/safe-files.js'),
    ]);
    this.live = new LiveRuns({ inputs });
    await this.live.start();
    const roots = allowedRoots([...new Set(inputs().map((f) => path.dirname(f)))]);
    this.handler = dashboardHandler(this.live, { roots, host, cwd: process.cwd() });
    return `dashboard: ${metricsUrl.replace(/metrics$/, '')}`;
  }

  /**
   * The run ended and its files are closed (telemetry's `beforeServerClose`): open pages get its
   * last rows and its exit code before the server closes under them.
   */
  readonly finish = async (exitCode: number): Promise<void> => {
    await this.live?.finish({ exitCode });
  };

  stop(): void {
    this.live?.stop();
  }
}

/**
 * The telemetry of a bridge command (`run`, `tail`): its own NDJSON keeps only system samples
 * (the trainer writes the rest), and with `--dashboard` the page follows `streams` on the
 * /metrics server. Says where the dashboard is, or why there is none.
 */
export async function startBridgeTelemetry(options: {
  config: TrainConfig;
  env: NodeJS.ProcessEnv;
  dashboard: boolean;
  streams: (telemetry: Telemetry) => readonly (string | undefined)[];
  warn: (line: string) => void;
  command: string;
}): Promise<{ telemetry: Telemetry; dashboard: CliDashboard }> {
  const dashboard = new CliDashboard();
  const { warn } = options;
  const telemetry = await startTelemetry(options.config, {
    env: options.env,
    ndjsonPhases: ['system'],
    info: warn,
    warn,
    httpRoutes: options.dashboard ? dashboard.routes : undefined,
    beforeServerClose: dashboard.finish,
  });
  if (options.dashboard) {
    const line = await dashboard.start(
      () => options.streams(telemetry),
      telemetry.config.prometheusHost,
      telemetry.paths.metricsUrl,
    );
    warn(line ?? `${options.command}: no dashboard, /metrics could not be served`);
  }
  return { telemetry, dashboard };
}
