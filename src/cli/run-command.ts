/**
 * `codex-telemetry run [options] -- CMD ARGS...`: runs a trainer as a child, tells it where to write
 * (CODEX_METRICS_OUT, CODEX_EVAL_METRICS_OUT, CODEX_RUN_ID), tails those files into every sink,
 * samples the host and the child's process tree, forwards SIGINT/SIGTERM, and exits with the
 * child's exit code (also written as the W&B exit record). The child's stdio is passed through.
 *
 * The trainer is never left behind: if the bridge fails, the trainer is stopped (SIGTERM, then
 * SIGKILL after a grace period), the sinks are closed with the real outcome, and one line says why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { TailBridge } from '../bridge/tail-bridge.js';
import { errnoCode, errorText, USAGE_EXIT_CODE } from '../errors.js';
import type { Telemetry } from '../telemetry.js';
import { startBridgeTelemetry } from './cli-dashboard.js';
import type { CommandIo } from '../command-line/command-io.js';
import { cliTrainConfig, stderrLines } from './cli-io.js';
import type { SinkOptions } from './parse-cli.js';
import { captureOutput } from './capture-output.js';
import { sinkTable, type SinkTable } from './sink-table.js';
import { SignalEscalation, signalGroup } from './signal-escalation.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const RUN_DEFAULTS = {
  metricsOut: '.codex/bridge_system.ndjson',
  tensorboard: true,
  wandbEnable: true,
  prometheus: true,
  installExitHandlers: false,
} as const;

/**
 * Refuses a metrics path the trainer could not write (a folder, or a folder that cannot be made or
 * written), before the trainer starts: otherwise the trainer dies on its first write with a
 * traceback of its own, and the bridge's closing hint points the wrong way.
 */
function checkStreamPath(file: string, variable: string): string | undefined {
  try {
    if (fs.statSync(file).isDirectory()) {
      return `${variable} is a folder (${file}); point it at a file, e.g. ${path.join(file, 'metrics.ndjson')}`;
    }
  } catch (error) {
    const code = errnoCode(error);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return `cannot use ${variable}=${file}: ${errorText(error)}`;
  }
  const dir = path.dirname(file);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (error) {
    if (errnoCode(error) === undefined) throw error;
    return `the trainer could not write ${variable}=${file}: ${errorText(error)}; choose a folder you can write with --out DIR`;
  }
  return undefined;
}

/**
 * The trainer's command as spawn would find it: a path, or a name on PATH. Checked before any sink
 * opens, so a typo creates no W&B run and no table of sinks.
 */
function findCommand(file: string, env: NodeJS.ProcessEnv): string | undefined {
  const executable = (candidate: string): boolean => {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return fs.statSync(candidate).isFile();
    } catch (error) {
      if (errnoCode(error) === undefined) throw error;
      return false;
    }
  };
  if (file.includes('/')) return executable(file) ? file : undefined;
  // Without PATH in the trainer's environment, spawn searches the system default, as execvp does.
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    const candidate = path.join(dir === '' ? '.' : dir, file);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}

/** SIGTERM now, SIGKILL after `graceMs` if it is still running. Resolves once the child is gone. */
function stopChild(child: ChildProcess, exited: Promise<number>, graceMs: number): Promise<number> {
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
  return exited.finally(() => clearTimeout(timer));
}

export async function runChild(
  options: SinkOptions,
  command: string[],
  io: CommandIo,
  /** Hands over from the bin's early signal trap: the signal it caught, if any. */
  takeEarlySignal: () => NodeJS.Signals | undefined = () => undefined,
): Promise<number> {
  // Signals are ours from the start: one that arrives before the trainer exists is passed on to it
  // as soon as it does, rather than killing this process and leaving the trainer behind.
  let child: ChildProcess | undefined;
  let pending: NodeJS.Signals | undefined;
  const escalation = new SignalEscalation(stderrLines(io));
  const forward = FORWARDED.map((signal) => {
    const handler = (): void => {
      if (child === undefined) pending = signal;
      else escalation.receive(child, signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  pending = takeEarlySignal();
  try {
    return await runWithSignals(options, command, io, (spawned) => {
      child = spawned;
      if (pending !== undefined) escalation.receive(spawned, pending);
    });
  } finally {
    for (const [signal, handler] of forward) process.removeListener(signal, handler);
  }
}

async function runWithSignals(
  options: SinkOptions,
  command: string[],
  io: CommandIo,
  onSpawn: (child: ChildProcess) => void,
): Promise<number> {
  const warn = stderrLines(io);
  const config = cliTrainConfig(
    { ...options, config: { ...options.config, metricsOut: RUN_DEFAULTS.metricsOut } },
    RUN_DEFAULTS,
    io.env,
  );
  const out = path.resolve(config.outDir ?? io.env.CODEX_OUT_DIR ?? '.');
  const metricsFile = path.resolve(out, io.env.CODEX_METRICS_OUT ?? '.codex/metrics.ndjson');
  const evalFile = path.resolve(out, io.env.CODEX_EVAL_METRICS_OUT ?? '.codex/eval_metrics.ndjson');
  for (const [file, variable] of [
    [metricsFile, 'CODEX_METRICS_OUT'],
    [evalFile, 'CODEX_EVAL_METRICS_OUT'],
  ] as const) {
    const problem = checkStreamPath(file, variable);
    if (problem !== undefined) {
      warn(`codex-telemetry: ${problem}`);
      return USAGE_EXIT_CODE;
    }
  }
  const trainer = command[0] as string;
  if (findCommand(trainer, io.env) === undefined) {
    // The shell's status for a command it cannot find; nothing was started or written.
    warn(
      `codex-telemetry: cannot start the trainer: ${trainer} is ${trainer.includes('/') ? 'not an executable file' : 'not a command on PATH'}`,
    );
    return 127;
  }
  const { telemetry, dashboard } = await startBridgeTelemetry({
    config,
    env: { ...io.env, CODEX_METRICS_OUT: undefined, CODEX_EVAL_METRICS_OUT: undefined },
    dashboard: options.dashboard,
    streams: (running) => [metricsFile, evalFile, running.paths.metricsOut],
    warn,
    command: 'codex-telemetry',
  });
  const [file, ...args] = command as [string, ...string[]];
  const outputLog =
    options.captureOutput && telemetry.paths.wandbRunDir
      ? path.join(telemetry.paths.wandbRunDir, 'files', 'output.log')
      : undefined;
  if (options.captureOutput && !outputLog) {
    warn(
      'codex-telemetry: --capture-output needs the W&B sink (it writes files/output.log); output is passed through only',
    );
  }
  const child = spawn(file, args, {
    // A process group of its own: `run` passes each signal on and escalates on repeats
    // (signal-escalation.ts); the terminal's Ctrl-C reaches the trainer through `run` only once.
    detached: true,
    // Pipes only when capturing: the bytes are passed on unchanged, and also copied to output.log.
    stdio: outputLog ? ['inherit', 'pipe', 'pipe'] : 'inherit',
    env: {
      ...io.env,
      CODEX_METRICS_OUT: metricsFile,
      CODEX_EVAL_METRICS_OUT: evalFile,
      CODEX_RUN_ID: telemetry.config.runId,
    },
  });
  onSpawn(child);
  // Whatever happens to this process, the trainer does not outlive it.
  const killOnExit = (): void => signalGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      warn(`codex-telemetry: cannot start ${file}: ${errorText(error)}`);
      resolve(error.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => resolve(exitCodeOf(code, signal)));
  });
  const captured = outputLog ? captureOutput(child, outputLog, warn) : undefined;
  let failure: string | undefined;
  let exitCode: number;
  const bridge = new TailBridge({
    files: [metricsFile, evalFile],
    fromStart: false,
    telemetry,
    warn,
    maxLineBytes: options.maxLineBytes,
  });
  try {
    telemetry.watchProcess(child.pid);
    const noRowTimer =
      options.noRowWarnSeconds > 0
        ? setTimeout(() => {
            if (bridge.stats.rows === 0)
              warn(
                `codex-telemetry: no row from the trainer in ${options.noRowWarnSeconds} s; it must append NDJSON lines to the file named by $CODEX_METRICS_OUT (${metricsFile})`,
              );
          }, options.noRowWarnSeconds * 1000)
        : undefined;
    noRowTimer?.unref();
    const controller = new AbortController();
    const following = bridge.follow(controller.signal).catch((error: unknown) => {
      failure = `cannot read the trainer's metrics: ${errorText(error)}`;
    });
    exitCode = await Promise.race([exited, following.then(() => undefined)]).then(async (code) => {
      if (code !== undefined) return code;
      // The bridge failed while the trainer runs: stop it rather than leave it unobserved.
      return stopChild(child, exited, options.killGraceSeconds * 1000);
    });
    clearTimeout(noRowTimer);
    controller.abort();
    await following;
  } catch (error) {
    failure = errorText(error);
    exitCode = await stopChild(child, exited, options.killGraceSeconds * 1000);
  } finally {
    process.removeListener('exit', killOnExit);
  }
  await captured;
  const outcome = failure === undefined ? exitCode : exitCode === 0 ? 1 : exitCode;
  // Decided after the last flush (where a full disk often shows first), so the W&B exit record
  // says what this command exits with.
  await telemetry.shutdown(() => (outcome === 0 && sinkTable(telemetry).allFileSinksDown ? 1 : outcome));
  dashboard.stop();
  const table = report(io, telemetry, bridge, { exitCode, failure, metricsFile, evalFile });
  if (outcome === 0 && table.allFileSinksDown) {
    warn(
      `codex-telemetry: every file sink went down (${table.fileSinksDown.join(', ')}); see the DOWN reasons above`,
    );
    return 1;
  }
  return outcome;
}

function report(
  io: CommandIo,
  telemetry: Telemetry,
  bridge: TailBridge,
  run: { exitCode: number; failure: string | undefined; metricsFile: string; evalFile: string },
): SinkTable {
  const { rows, malformed } = bridge.stats;
  const table = sinkTable(telemetry);
  const lines = [table.text.trimEnd(), `trainer streams: ${run.metricsFile}, ${run.evalFile}`];
  if (run.failure !== undefined) {
    lines.push(
      `codex-telemetry: run failed (${run.failure}); the trainer was stopped and exited with ${run.exitCode}; ${rows} rows re-exported`,
    );
  } else {
    lines.push(
      `codex-telemetry: trainer exited with ${run.exitCode}; ${rows} rows re-exported, ${malformed} malformed lines skipped`,
    );
  }
  // A trainer that failed before its first row failed for its own reason (its stderr says which);
  // the hint about where rows go is for a trainer that ran and wrote none.
  if (rows === 0 && run.failure === undefined && run.exitCode === 0) {
    lines.push(
      `codex-telemetry: no row arrived; the trainer must append NDJSON lines to $CODEX_METRICS_OUT (${run.metricsFile})`,
    );
  } else if (rows === 0 && run.failure === undefined) {
    lines.push(
      `codex-telemetry: the trainer exited with ${run.exitCode} before writing a row; see its output above`,
    );
  }
  io.stderr.write(`${lines.join('\n')}\n`);
  return table;
}
