/**
 * Checkpoint provenance: each checkpoint save emits a `run_manifest.json` beside the artifact,
 * best-effort. Its absence must never fail training, so `writeRunManifest` never throws: a failure
 * is one line through `options.warn` (or `diag` when none is given) and an `undefined` result.
 */
import { errorText } from '../errors.js';
import fs from 'node:fs';
import path from 'node:path';
import { diag } from '@opentelemetry/api';
import { archiveMetricsFiles, type ArchivedFile } from './archive-metrics.js';
import { writeFileAtomic } from './atomic-write.js';
import { buildManifest, describeCheckpoint } from './build-manifest.js';
import { manifestLocations } from './locations.js';
import { serializeManifest } from './serialize.js';
import type { MetricsArchive, RunManifest, RunManifestOptions } from './types.js';

/** Writes the manifest and returns its path, or undefined (after one warning) when it could not. */
export async function writeRunManifest(
  checkpointPath: string,
  options: RunManifestOptions = {},
): Promise<string | undefined> {
  try {
    const { path: written, manifest } = await writeRunManifestOrThrow(checkpointPath, options);
    const archiveError = manifest.metrics_archive?.error;
    if (archiveError !== undefined)
      report(
        options,
        `codex-telemetry: metrics archive beside ${checkpointPath} is incomplete: ${archiveError}`,
      );
    return written;
  } catch (error) {
    report(options, `codex-telemetry: no run manifest for ${checkpointPath}: ${errorText(error)}`);
    return undefined;
  }
}

/** The same, throwing, for callers that report the reason themselves (the `manifest` CLI). */
export async function writeRunManifestOrThrow(
  checkpointPath: string,
  options: RunManifestOptions = {},
): Promise<{ path: string; manifest: RunManifest }> {
  const isDirectory = (await fs.promises.stat(checkpointPath)).isDirectory();
  const located = manifestLocations(checkpointPath, isDirectory);
  const manifestPath =
    options.manifestPath === undefined ? located.manifestPath : path.resolve(options.manifestPath);
  // Inside a checkpoint folder, the manifest and archive are ours: keep them out of its size and digest.
  const ours = new Set([path.basename(manifestPath), path.basename(located.archiveDir)]);
  const checkpoint = await describeCheckpoint(
    checkpointPath,
    options.sha256 ?? false,
    isDirectory ? ours : new Set(),
  );
  const manifest = await buildManifest(checkpoint, options);
  if (options.archiveMetrics === true) {
    manifest.metrics_archive = await archive(located.archiveDir, path.dirname(manifestPath), options);
  }
  await writeFileAtomic(manifestPath, serializeManifest(manifest));
  return { path: manifestPath, manifest };
}

async function archive(
  archiveDir: string,
  manifestDir: string,
  options: RunManifestOptions,
): Promise<MetricsArchive> {
  const errors: string[] = [];
  if (options.beforeArchive) {
    try {
      await options.beforeArchive();
    } catch (error) {
      // Archive what is on disk anyway: an older stream beats none, and the manifest says why.
      errors.push(`closing the current segments failed: ${errorText(error)}`);
    }
  }
  let files: ArchivedFile[] = [];
  try {
    const list = typeof options.metricsFiles === 'function' ? options.metricsFiles() : options.metricsFiles;
    files = await archiveMetricsFiles(archiveDir, list ?? []);
  } catch (error) {
    errors.push(`archiving failed: ${errorText(error)}`);
  }
  const dir = path.relative(manifestDir, archiveDir) || '.';
  return errors.length === 0 ? { dir, files } : { dir, files, error: errors.join('; ') };
}

function report(options: RunManifestOptions, message: string): void {
  if (options.warn) options.warn(message);
  else diag.debug(message);
}
