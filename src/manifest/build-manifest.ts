/** Gathers every field of a manifest except the archive, which writing it produces. */
import fs from 'node:fs';
import path from 'node:path';
import { TelemetryError } from '../errors.js';
import { INT64_MAX, INT64_MIN, normalizeStep, type Step } from '../step.js';
import { envKeysFromEnv, selectEnv } from './env-snapshot.js';
import { digestTree, sha256File } from './file-digest.js';
import { lockDigests } from './lock-digests.js';
import { packageInfo } from './package-info.js';
import { platformString } from './platform-string.js';
import {
  MANIFEST_SCHEMA_VERSION,
  type CheckpointInfo,
  type RunManifest,
  type RunManifestOptions,
} from './types.js';

export async function describeCheckpoint(
  checkpointPath: string,
  hash: boolean,
  skip: ReadonlySet<string>,
): Promise<CheckpointInfo> {
  const stat = await fs.promises.stat(checkpointPath);
  const name = path.basename(path.resolve(checkpointPath));
  if (stat.isDirectory()) {
    const tree = await digestTree(checkpointPath, hash, skip);
    return {
      name,
      kind: 'directory',
      size_bytes: tree.sizeBytes,
      file_count: tree.fileCount,
      sha256: tree.sha256 ?? null,
    };
  }
  return {
    name,
    kind: 'file',
    size_bytes: stat.size,
    sha256: hash ? await sha256File(checkpointPath) : null,
  };
}

export async function buildManifest(
  checkpoint: CheckpointInfo,
  options: RunManifestOptions,
): Promise<RunManifest> {
  const env = options.env ?? process.env;
  const nowMs = (options.now ?? Date.now)();
  const python = options.pythonVersion ?? nonEmpty(env.CODEX_PYTHON_VERSION);
  return {
    schema_version: MANIFEST_SCHEMA_VERSION,
    run_id: options.runId ?? null,
    step: options.step === undefined ? null : checkedStep(options.step),
    timestamp: new Date(nowMs).toISOString(),
    unix_time: nowMs / 1000,
    package: packageInfo(),
    runtime: python === undefined ? { node: process.version } : { node: process.version, python },
    platform: platformString(),
    git_sha: nonEmpty(env.GIT_SHA) ?? null,
    lock_sha256: await lockDigests(options.projectRoot ?? process.cwd()),
    env: selectEnv(env, [...envKeysFromEnv(env), ...(options.envKeys ?? [])]),
    checkpoint,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function checkedStep(step: Step): Step {
  const valid =
    typeof step === 'bigint' ? step >= INT64_MIN && step <= INT64_MAX : Number.isSafeInteger(step);
  if (!valid)
    throw new TelemetryError('CONFIG_INVALID', `manifest step must be an int64 integer, got ${String(step)}`);
  return normalizeStep(step);
}
