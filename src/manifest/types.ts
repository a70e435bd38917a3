/** The shape of `run_manifest.json`; docs/run_manifest.schema.json is its JSON Schema. */
import type { Step } from '../step.js';
import type { ArchivedFile } from './archive-metrics.js';

export const MANIFEST_SCHEMA_VERSION = 1;

export interface CheckpointInfo {
  /** Base name of the checkpoint file or folder (the manifest sits beside or inside it). */
  name: string;
  kind: 'file' | 'directory';
  /** File size, or the total of the regular files in a checkpoint folder. */
  size_bytes: number;
  /** Number of regular files, for a checkpoint folder only. */
  file_count?: number;
  /** Hex SHA-256, only when asked for (hashing a 10 GB checkpoint is opt-in); null otherwise. */
  sha256: string | null;
}

export interface MetricsArchive {
  /** Archive folder, relative to the manifest's folder. */
  dir: string;
  files: ArchivedFile[];
  /** Set when closing the segments or archiving failed part-way; `files` holds what was placed. */
  error?: string;
}

export interface RunManifest {
  schema_version: typeof MANIFEST_SCHEMA_VERSION;
  run_id: string | null;
  /** Training step; int64, written as exact digits. */
  step: Step | null;
  /** ISO 8601, UTC, millisecond resolution. */
  timestamp: string;
  /** The same instant in Unix seconds. */
  unix_time: number;
  package: { name: string; version: string };
  /** `node`: the runtime that wrote the manifest; `python`: the trainer's interpreter when told. */
  runtime: { node: string; python?: string };
  /** In the style of Python's platform.platform(), e.g. Linux-6.1.0-x86_64-with-glibc2.36. */
  platform: string;
  /** From the GIT_SHA environment variable only; null when unset. */
  git_sha: string | null;
  /** Lock file name → hex SHA-256, for the lock files present in the project root. */
  lock_sha256: Record<string, string>;
  /** Reproducibility variables that were set. */
  env: Record<string, string>;
  checkpoint: CheckpointInfo;
  metrics_archive?: MetricsArchive;
}

export interface RunManifestOptions {
  step?: Step;
  runId?: string;
  /** Hash the checkpoint (default false). */
  sha256?: boolean;
  /** The trainer's Python version. Default: env CODEX_PYTHON_VERSION. Never found by spawning. */
  pythonVersion?: string;
  /** Environment to read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Variables to record besides PYTHONHASHSEED, CODEX_AUDIT, CODEX_DDP (and CODEX_MANIFEST_ENV's). */
  envKeys?: readonly string[];
  /** Where the lock files are looked for (default: the working directory). */
  projectRoot?: string;
  /** Place the metric streams beside the checkpoint and list them with digests (default false). */
  archiveMetrics?: boolean;
  /** The stream files to archive, oldest first (rotated segments included). A function is called
   * after `beforeArchive`, so segments that closing just produced are in the list. */
  metricsFiles?: readonly string[] | (() => readonly string[]);
  /** Called before archiving, to close/flush the current segments. A failure is recorded, not fatal. */
  beforeArchive?: () => Promise<void>;
  /** Where a manifest that could not be written, or an archive that failed, is reported (default: diag). */
  warn?: (message: string) => void;
  /** Write the manifest here instead of the default location. */
  manifestPath?: string;
  /** Clock in milliseconds (default Date.now), for tests. */
  now?: () => number;
}
