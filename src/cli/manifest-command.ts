/**
 * `codex-telemetry manifest <checkpoint> [options]`: writes run_manifest.json for a checkpoint saved
 * by a trainer in another language. Per the runbook, provenance is best-effort and must never fail
 * training: the command always exits 0, with a warning on stderr when no manifest was written (a
 * usage mistake included, since the trainer's checkpoint is already safe on disk).
 */
import { errorText } from '../errors.js';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { streamFiles } from '../ndjson/segments.js';
import { INT64_MAX, INT64_MIN, type Step } from '../step.js';
import { writeRunManifestOrThrow } from '../manifest/write-run-manifest.js';
import type { RunManifestOptions } from '../manifest/types.js';

export const MANIFEST_USAGE = `Usage: codex-telemetry manifest CHECKPOINT [options]

Writes CHECKPOINT.run_manifest.json beside a checkpoint file (run_manifest.json inside a checkpoint
folder) and prints its path. Always exits 0; a manifest that cannot be written is a warning.

  --step N               training step (int64)
  --run-id ID            run id (default: CODEX_RUN_ID, set by "codex-telemetry run")
  --python-version X     the trainer's Python version (default: CODEX_PYTHON_VERSION)
  --sha256               hash the checkpoint (off by default: checkpoints can be many GB)
  --archive-metrics      copy the metric streams beside the checkpoint, listed with digests
  --metrics-out FILE     a stream to archive, rotated segments included (repeatable; default:
                         CODEX_METRICS_OUT and CODEX_EVAL_METRICS_OUT, else .codex/*.ndjson)
  --project-root DIR     where lock files are looked for (default: the working directory)
  --env NAME             also record this environment variable when set (repeatable;
                         CODEX_MANIFEST_ENV may list more, comma-separated)
  --manifest-path FILE   write the manifest here instead
`;

export interface ManifestArgs {
  checkpoint: string;
  step: Step | undefined;
  runId: string | undefined;
  pythonVersion: string | undefined;
  sha256: boolean;
  archiveMetrics: boolean;
  metricsOut: string[];
  projectRoot: string | undefined;
  envKeys: string[];
  manifestPath: string | undefined;
}

export type ParsedManifestArgs =
  | { kind: 'args'; args: ManifestArgs }
  | { kind: 'help'; text: string }
  | { kind: 'usage-error'; message: string };

export interface ManifestIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

const OPTIONS = {
  step: { type: 'string' },
  'run-id': { type: 'string' },
  'python-version': { type: 'string' },
  sha256: { type: 'boolean' },
  'archive-metrics': { type: 'boolean' },
  'metrics-out': { type: 'string', multiple: true },
  'project-root': { type: 'string' },
  env: { type: 'string', multiple: true },
  'manifest-path': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Pure: argv after `manifest` → options, help, or a usage error naming the bad flag. */
export function parseManifestArgs(argv: readonly string[]): ParsedManifestArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs reports unknown or malformed flags as TypeErrors carrying an ERR_PARSE_ARGS_* code.
    if (error instanceof TypeError && 'code' in error) return { kind: 'usage-error', message: error.message };
    throw error;
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help', text: MANIFEST_USAGE };
  if (positionals.length !== 1) {
    return {
      kind: 'usage-error',
      message: `manifest takes exactly one checkpoint path, got ${positionals.length}`,
    };
  }
  const step = values.step === undefined ? undefined : parseStep(values.step);
  if (step === null) {
    return { kind: 'usage-error', message: `--step must be an int64 integer, got "${values.step}"` };
  }
  return {
    kind: 'args',
    args: {
      checkpoint: positionals[0] as string,
      step,
      runId: values['run-id'],
      pythonVersion: values['python-version'],
      sha256: values.sha256 ?? false,
      archiveMetrics: values['archive-metrics'] ?? false,
      metricsOut: values['metrics-out'] ?? [],
      projectRoot: values['project-root'],
      envKeys: values.env ?? [],
      manifestPath: values['manifest-path'],
    },
  };
}

function parseStep(text: string): Step | null {
  if (!/^-?\d+$/.test(text)) return null;
  const big = BigInt(text);
  if (big < INT64_MIN || big > INT64_MAX) return null;
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** Options for writeRunManifest from parsed flags and the environment (flags win). */
export function manifestOptions(args: ManifestArgs, env: NodeJS.ProcessEnv): RunManifestOptions {
  const options: RunManifestOptions = {
    env,
    sha256: args.sha256,
    envKeys: args.envKeys,
    archiveMetrics: args.archiveMetrics,
  };
  if (args.step !== undefined) options.step = args.step;
  const runId = args.runId ?? env.CODEX_RUN_ID;
  if (runId !== undefined && runId !== '') options.runId = runId;
  if (args.pythonVersion !== undefined) options.pythonVersion = args.pythonVersion;
  if (args.projectRoot !== undefined) options.projectRoot = args.projectRoot;
  if (args.manifestPath !== undefined) options.manifestPath = args.manifestPath;
  if (args.archiveMetrics) options.metricsFiles = metricsFiles(args.metricsOut, env);
  return options;
}

/** Every file of each named stream, oldest segment first; the bridge's streams by default. */
function metricsFiles(given: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const streams =
    given.length > 0
      ? given
      : [
          env.CODEX_METRICS_OUT ?? path.join('.codex', 'metrics.ndjson'),
          env.CODEX_EVAL_METRICS_OUT ?? path.join('.codex', 'eval_metrics.ndjson'),
        ];
  return streams.flatMap((stream) => streamFiles(path.resolve(stream)));
}

export async function manifestCommand(argv: string[], io: ManifestIo): Promise<number> {
  const parsed = parseManifestArgs(argv);
  if (parsed.kind === 'help') {
    io.stdout.write(parsed.text);
    return 0;
  }
  if (parsed.kind === 'usage-error') {
    io.stderr.write(`codex-telemetry manifest: warning: no manifest written: ${parsed.message}\n`);
    return 0;
  }
  try {
    const written = await writeRunManifestOrThrow(
      parsed.args.checkpoint,
      manifestOptions(parsed.args, io.env),
    );
    io.stdout.write(`${written.path}\n`);
    const archiveError = written.manifest.metrics_archive?.error;
    if (archiveError !== undefined) {
      io.stderr.write(`codex-telemetry manifest: warning: metrics archive incomplete: ${archiveError}\n`);
    }
  } catch (error) {
    const message = errorText(error);
    io.stderr.write(
      `codex-telemetry manifest: warning: no manifest written for ${parsed.args.checkpoint}: ${message}\n`,
    );
  }
  return 0;
}
