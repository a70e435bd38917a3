/**
 * `codex-telemetry manifest <checkpoint> [options]`: writes run_manifest.json for a checkpoint saved
 * by a trainer in another language. Provenance is best-effort and must never fail training, so a
 * trainer runs this command and ignores its status; the status still says what happened, for the
 * user at a shell: 0 written, 1 nothing written (the reason on stderr), 2 a usage error.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CommandIo } from '../command-line/command-io.js';
import { usageErrorText } from '../command-line/run-bin.js';
import { listFlag, parseFlags, stringFlag, type FlagSpec } from '../command-line/parse-flags.js';
import { errnoCode, errorText, UsageError, USAGE_EXIT_CODE } from '../errors.js';
import { manifestLocations } from '../manifest/locations.js';
import { streamFiles } from '../ndjson/segments.js';
import { INT64_MAX, INT64_MIN, type Step } from '../step.js';
import { writeRunManifestOrThrow } from '../manifest/write-run-manifest.js';
import { packageVersion } from '../command-line/version.js';
import type { RunManifestOptions } from '../manifest/types.js';
import { MANIFEST_USAGE } from './manifest-usage.js';

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
  { kind: 'args'; args: ManifestArgs } | { kind: 'help' } | { kind: 'version' };

const FLAGS: readonly FlagSpec[] = [
  { flag: 'step', kind: 'string' },
  { flag: 'run-id', kind: 'string' },
  { flag: 'python-version', kind: 'string' },
  { flag: 'sha256', kind: 'boolean' },
  { flag: 'archive-metrics', kind: 'boolean' },
  { flag: 'metrics-out', kind: 'string', multiple: true },
  { flag: 'project-root', kind: 'string' },
  { flag: 'env', kind: 'string', multiple: true },
  { flag: 'manifest-path', kind: 'string' },
];

/** Pure: argv after `manifest` → options, help or version; a UsageError naming the bad flag. */
export function parseManifestArgs(argv: readonly string[]): ParsedManifestArgs {
  const flags = parseFlags(argv, FLAGS, { usage: MANIFEST_USAGE });
  if (flags.help) return { kind: 'help' };
  if (flags.version) return { kind: 'version' };
  if (flags.positionals.length !== 1) {
    throw new UsageError(
      `manifest takes exactly one checkpoint path, got ${flags.positionals.length}`,
      MANIFEST_USAGE,
    );
  }
  const stepText = stringFlag(flags, 'step');
  const step = stepText === undefined ? undefined : parseStep(stepText);
  if (step === null)
    throw new UsageError(`--step must be an int64 integer, got "${stepText}"`, MANIFEST_USAGE);
  return {
    kind: 'args',
    args: {
      checkpoint: flags.positionals[0] as string,
      step,
      runId: stringFlag(flags, 'run-id'),
      pythonVersion: stringFlag(flags, 'python-version'),
      sha256: flags.values.get('sha256') === true,
      archiveMetrics: flags.values.get('archive-metrics') === true,
      metricsOut: listFlag(flags, 'metrics-out'),
      projectRoot: stringFlag(flags, 'project-root'),
      envKeys: listFlag(flags, 'env'),
      manifestPath: stringFlag(flags, 'manifest-path'),
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

/**
 * The run id and step of a manifest already at the destination: writing the manifest again (with
 * no run id given) must not replace what the run that saved the checkpoint recorded with null.
 */
function previousManifest(args: ManifestArgs): { runId?: string; step?: Step } {
  let manifestPath = args.manifestPath;
  if (manifestPath === undefined) {
    try {
      manifestPath = manifestLocations(
        args.checkpoint,
        fs.statSync(args.checkpoint).isDirectory(),
      ).manifestPath;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return {};
      throw error;
    }
  }
  let text: string;
  try {
    text = fs.readFileSync(manifestPath, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR' || errnoCode(error) === 'EISDIR')
      return {};
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return {};
    throw error;
  }
  const old = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const kept: { runId?: string; step?: Step } = {};
  if (typeof old.run_id === 'string' && old.run_id !== '') kept.runId = old.run_id;
  if (typeof old.step === 'number' && Number.isSafeInteger(old.step)) kept.step = old.step;
  return kept;
}

export async function manifestCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  let parsed: ParsedManifestArgs;
  try {
    parsed = parseManifestArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(usageErrorText('codex-telemetry manifest', error.message));
    return USAGE_EXIT_CODE;
  }
  if (parsed.kind === 'help') {
    io.stdout.write(MANIFEST_USAGE);
    return 0;
  }
  if (parsed.kind === 'version') {
    io.stdout.write(`codex-telemetry ${packageVersion()}\n`);
    return 0;
  }
  const { args } = parsed;
  try {
    const options = manifestOptions(args, io.env);
    if (options.runId === undefined) {
      const previous = previousManifest(args);
      if (previous.runId !== undefined) {
        options.runId = previous.runId;
        if (options.step === undefined && previous.step !== undefined) options.step = previous.step;
      }
    }
    const written = await writeRunManifestOrThrow(args.checkpoint, options);
    io.stdout.write(`${written.path}\n`);
    const archiveError = written.manifest.metrics_archive?.error;
    if (archiveError !== undefined) {
      io.stderr.write(`codex-telemetry manifest: warning: metrics archive incomplete: ${archiveError}\n`);
    }
    return 0;
  } catch (error) {
    io.stderr.write(
      `codex-telemetry manifest: no manifest written for ${args.checkpoint}: ${errorText(error)}\n`,
    );
    return 1;
  }
}
