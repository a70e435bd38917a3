/** Run manifests beside checkpoints (#8) and archiving metric streams with them (#11). */
export { writeRunManifest, writeRunManifestOrThrow } from './write-run-manifest.js';
export { manifestLocations, MANIFEST_NAME } from './locations.js';
export { MANIFEST_SCHEMA_VERSION } from './types.js';
export type { CheckpointInfo, MetricsArchive, RunManifest, RunManifestOptions } from './types.js';
export type { ArchivedFile } from './archive-metrics.js';
