/**
 * Pure argument parsing for `codex-telemetry`: tests call it without spawning a process.
 * Usage errors are returned, not thrown, so the bin can print them and exit 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface SinkOptions {
  out: string | undefined;
  steps: number;
  evalEvery: number;
  checkpointEvery: number;
  stepDelayMs: number;
  tensorboard: boolean;
  wandb: boolean;
  ndjson: boolean;
  prometheus: boolean;
  prometheusPort: number | undefined;
  prometheusHost: string | undefined;
  serveSeconds: number;
  systemMetricsInterval: number | undefined;
  metricsRotateBytes: number | undefined;
  runId: string | undefined;
  gpu: boolean | undefined;
  /** run: also copy the trainer's stdout/stderr to the W&B run's files/output.log. */
  captureOutput: boolean;
  /** Also serve the live dashboard under / on the /metrics server. */
  dashboard: boolean;
}

export type ParsedCli =
  | { command: 'demo'; options: SinkOptions }
  | { command: 'run'; options: SinkOptions; child: string[] }
  | { command: 'tail'; options: SinkOptions; files: string[]; fromStart: boolean; follow: boolean }
  | { command: 'manifest'; argv: string[] }
  | { command: 'dashboard'; argv: string[] }
  | { command: 'wandb-ls'; dir: string | undefined }
  | { command: 'help'; text: string }
  | { command: 'version' }
  | { command: 'usage-error'; message: string };

export const USAGE = `Usage: codex-telemetry <command> [options]

Commands:
  demo                      synthetic training run writing every sink, serving /metrics
  run [options] -- CMD ...  run a trainer, re-export the NDJSON it writes (CODEX_METRICS_OUT)
  tail [options] FILE...    replay / follow NDJSON files into every sink
  manifest CHECKPOINT       write run_manifest.json beside a checkpoint (always exits 0)
  wandb ls [DIR]            list W&B offline runs: size, records, complete, synced
  dashboard [RUN]...        live training curves in the browser (--port P, --host H)

Output options (demo, run, tail):
  --out DIR                     every file of the run goes under DIR (default: .)
  --no-ndjson --no-tensorboard --no-wandb --no-prometheus
  --prometheus-port P           /metrics port (0 = any free port; default 9464)
  --prometheus-host HOST        bind address (default 127.0.0.1)
  --serve SECONDS               keep /metrics up this long after the run
  --system-metrics-interval S   seconds between system samples (0 = off; fractions allowed)
  --metrics-rotate-bytes N      rotate the NDJSON streams past N bytes
  --gpu / --no-gpu              sample NVIDIA GPUs through NVML (CODEX_MONITORING_ENABLE_GPU)
  --run-id ID
  --dashboard                   also serve the live dashboard under / on the /metrics server

Demo options:
  --steps N (default 300)  --eval-every N (default 50)  --checkpoint-every N (default 100)
  --step-delay-ms MS (default 10)

run options: --capture-output (also copy the trainer's stdout/stderr to the W&B run's files/output.log)
tail options: --from-start (replay what is already there), --follow (keep waiting for lines)
`;

const SINK_OPTIONS = {
  out: { type: 'string' },
  steps: { type: 'string' },
  'eval-every': { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'step-delay-ms': { type: 'string' },
  'no-tensorboard': { type: 'boolean' },
  'no-wandb': { type: 'boolean' },
  'no-ndjson': { type: 'boolean' },
  'no-prometheus': { type: 'boolean' },
  'prometheus-port': { type: 'string' },
  'prometheus-host': { type: 'string' },
  serve: { type: 'string' },
  'system-metrics-interval': { type: 'string' },
  'metrics-rotate-bytes': { type: 'string' },
  'run-id': { type: 'string' },
  gpu: { type: 'boolean' },
  'no-gpu': { type: 'boolean' },
  'from-start': { type: 'boolean' },
  'capture-output': { type: 'boolean' },
  follow: { type: 'boolean' },
  dashboard: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

class UsageError extends Error {}

export function parseCli(argv: readonly string[]): ParsedCli {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        return { command: 'help', text: USAGE };
      case '--version':
      case 'version':
        return { command: 'version' };
      case 'demo': {
        const { values } = parse(rest, false);
        if (values.help) return { command: 'help', text: USAGE };
        return { command: 'demo', options: sinkOptions(values) };
      }
      case 'run': {
        const split = rest.indexOf('--');
        if (split === -1 || split === rest.length - 1) {
          throw new UsageError(
            'run needs the trainer command after "--", e.g. codex-telemetry run -- python train.py',
          );
        }
        const { values } = parse(rest.slice(0, split), false);
        return { command: 'run', options: sinkOptions(values), child: rest.slice(split + 1) };
      }
      case 'tail': {
        const { values, positionals } = parse(rest, true);
        if (positionals.length === 0) throw new UsageError('tail needs at least one NDJSON file');
        return {
          command: 'tail',
          options: sinkOptions(values),
          files: positionals,
          fromStart: values['from-start'] ?? false,
          follow: values.follow ?? false,
        };
      }
      case 'manifest':
        return { command: 'manifest', argv: rest };
      case 'dashboard':
        return { command: 'dashboard', argv: rest };
      case 'wandb': {
        if (rest[0] !== 'ls')
          throw new UsageError(`unknown wandb subcommand "${rest[0] ?? ''}"; use: wandb ls [DIR]`);
        if (rest.length > 2) throw new UsageError('wandb ls takes at most one directory');
        return { command: 'wandb-ls', dir: rest[1] };
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      return { command: 'usage-error', message: `${error.message}\nRun "codex-telemetry help" for usage.` };
    }
    throw error;
  }
}

type SinkValues = ReturnType<typeof parse>['values'];

function parse(args: string[], allowPositionals: boolean) {
  return parseArgs({ args, options: SINK_OPTIONS, allowPositionals, strict: true });
}

function sinkOptions(values: SinkValues): SinkOptions {
  if (values.dashboard && values['no-prometheus']) {
    throw new UsageError('--dashboard is served by the /metrics server: drop --no-prometheus');
  }
  return {
    out: values.out,
    steps: int(values.steps, '--steps', 300, 1),
    evalEvery: int(values['eval-every'], '--eval-every', 50, 0),
    checkpointEvery: int(values['checkpoint-every'], '--checkpoint-every', 100, 0),
    stepDelayMs: number(values['step-delay-ms'], '--step-delay-ms', 10),
    tensorboard: !values['no-tensorboard'],
    wandb: !values['no-wandb'],
    ndjson: !values['no-ndjson'],
    prometheus: !values['no-prometheus'],
    prometheusPort:
      values['prometheus-port'] === undefined
        ? undefined
        : int(values['prometheus-port'], '--prometheus-port', 0, 0, 65535),
    prometheusHost: values['prometheus-host'],
    serveSeconds: number(values.serve, '--serve', 0),
    systemMetricsInterval:
      values['system-metrics-interval'] === undefined
        ? undefined
        : number(values['system-metrics-interval'], '--system-metrics-interval', 0),
    metricsRotateBytes:
      values['metrics-rotate-bytes'] === undefined
        ? undefined
        : int(values['metrics-rotate-bytes'], '--metrics-rotate-bytes', 0, 0),
    runId: values['run-id'],
    gpu: values['no-gpu'] ? false : values.gpu ? true : undefined,
    captureOutput: values['capture-output'] ?? false,
    dashboard: values.dashboard ?? false,
  };
}

function int(
  text: string | undefined,
  flag: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`${flag} must be an integer between ${min} and ${max}, got "${text}"`);
  }
  return value;
}

function number(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`${flag} must be a number >= 0, got "${text}"`);
  }
  return value;
}
