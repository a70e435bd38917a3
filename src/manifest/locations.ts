/**
 * Where a checkpoint's manifest and metrics archive go. A checkpoint folder (Hugging Face style
 * `checkpoint-100/`) gets them inside, so moving the folder moves its provenance. A checkpoint file
 * gets siblings named after it, so several checkpoints in one folder keep one manifest each instead
 * of overwriting a shared `run_manifest.json`.
 */
import path from 'node:path';

export const MANIFEST_NAME = 'run_manifest.json';
export const ARCHIVE_DIR_NAME = 'metrics';

export interface ManifestLocations {
  manifestPath: string;
  archiveDir: string;
}

export function manifestLocations(checkpointPath: string, isDirectory: boolean): ManifestLocations {
  const checkpoint = path.resolve(checkpointPath);
  return isDirectory
    ? {
        manifestPath: path.join(checkpoint, MANIFEST_NAME),
        archiveDir: path.join(checkpoint, `codex_${ARCHIVE_DIR_NAME}`),
      }
    : {
        manifestPath: `${checkpoint}.${MANIFEST_NAME}`,
        archiveDir: `${checkpoint}.${ARCHIVE_DIR_NAME}`,
      };
}
