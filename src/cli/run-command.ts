/**
 * `codex-telemetry run [options] -- CMD ARGS...`: runs a trainer as a child, tells it where to write
 * (CODEX_METRICS_OUT, CODEX_EVAL_METRICS_OUT, CODEX_RUN_ID), tails those files into every sink,
 * samples the host and the child's process tree, forwards SIGINT/SIGTERM, and exits with the
 * child's exit code (also written as the W&B exit record). The child's stdio is passed through.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { TailBridge } from '../bridge/tail-bridge.js';
import { CliDashboard } from './cli-dashboard.js';
import { startTelemetry } from '../telemetry.js';
import { trainConfigFromFlags, type CliIo } from './demo.js';
import type { SinkOptions } from './parse-cli.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Tees the child's stdout/stderr: unchanged to ours, and appended to `file`. Resolves when both end. */
function captureOutput(child: ChildProcess, file: string, io: CliIo): Promise<void> {
  const log = fs.createWriteStream(file, { flags: 'a' });
  log.on('error', (error) =>
    io.stderr.write(`codex-telemetry: cannot capture output to ${file}: ${error.message}\n`),
  );
  const pipe = (from: NodeJS.ReadableStream | null, to: NodeJS.WritableStream): Promise<void> =>
    new Promise((resolve) => {
      if (!from) return resolve();
      from.on('data', (chunk: Buffer) => {
        to.write(chunk);
        log.write(chunk);
      });
      from.on('end', resolve);
      from.on('error', (error: Error) => {
        io.stderr.write(`codex-telemetry: lost the trainer's output stream: ${error.message}\n`);
        resolve();
      });
    });
  return Promise.all([pipe(child.stdout, io.stdout), pipe(child.stderr, io.stderr)]).then(
    () => new Promise<void>((resolve) => log.end(resolve)),
  );
}

export async function runChild(options: SinkOptions, command: string[], io: CliIo): Promise<number> {
  const out = path.resolve(options.out ?? '.');
  const metricsFile = path.resolve(out, io.env.CODEX_METRICS_OUT ?? '.codex/metrics.ndjson');
  const evalFile = path.resolve(out, io.env.CODEX_EVAL_METRICS_OUT ?? '.codex/eval_metrics.ndjson');
  const dashboard = new CliDashboard();
  const telemetry = await startTelemetry(
    trainConfigFromFlags(options, {
      metricsOut: path.join(out, '.codex/bridge_system.ndjson'),
      installExitHandlers: false,
    }),
    {
      env: { ...io.env, CODEX_METRICS_OUT: undefined, CODEX_EVAL_METRICS_OUT: undefined },
      ndjsonPhases: ['system'],
      info: (line) => io.stderr.write(`${line}\n`),
      warn: (line) => io.stderr.write(`${line}\n`),
      httpRoutes: options.dashboard ? dashboard.routes : undefined,
    },
  );
  if (options.dashboard) {
    const paths = telemetry.paths;
    const line = await dashboard.start(
      () => [metricsFile, evalFile, paths.metricsOut],
      telemetry.config.prometheusHost,
      paths.metricsUrl,
    );
    io.stderr.write(`${line ?? 'codex-telemetry: no dashboard, /metrics could not be served'}\n`);
  }
  const [file, ...args] = command as [string, ...string[]];
  const outputLog =
    options.captureOutput && telemetry.paths.wandbRunDir
      ? path.join(telemetry.paths.wandbRunDir, 'files', 'output.log')
      : undefined;
  const child = spawn(file, args, {
    // Pipes only when capturing: the bytes are passed on unchanged, and also copied to output.log.
    stdio: outputLog ? ['inherit', 'pipe', 'pipe'] : 'inherit',
    env: {
      ...io.env,
      CODEX_METRICS_OUT: metricsFile,
      CODEX_EVAL_METRICS_OUT: evalFile,
      CODEX_RUN_ID: telemetry.config.runId,
    },
  });
  const exited = new Promise<number>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      io.stderr.write(`codex-telemetry: cannot start ${file}: ${error.message}\n`);
      resolve(error.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => {
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
  if (options.captureOutput && !outputLog) {
    io.stderr.write(
      'codex-telemetry: --capture-output needs the W&B sink (it writes files/output.log); output is passed through only\n',
    );
  }
  const captured = outputLog ? captureOutput(child, outputLog, io) : undefined;
  telemetry.watchProcess(child.pid);
  const forward = FORWARDED.map((signal) => {
    const handler = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  const bridge = new TailBridge({
    files: [metricsFile, evalFile],
    fromStart: false,
    telemetry,
    warn: (line) => io.stderr.write(`${line}\n`),
  });
  const controller = new AbortController();
  const following = bridge.follow(controller.signal);
  const exitCode = await exited;
  controller.abort();
  await following;
  for (const [signal, handler] of forward) process.removeListener(signal, handler);
  await captured;
  await telemetry.shutdown(exitCode);
  dashboard.stop();
  const { rows, malformed } = bridge.stats;
  io.stderr.write(
    `codex-telemetry: trainer exited with ${exitCode}; ${rows} rows re-exported, ${malformed} malformed lines skipped\n`,
  );
  return exitCode;
}
