/**
 * `Telemetry.checkpointSaved`: a best-effort `run_manifest.json` beside a checkpoint. With
 * `archiveMetrics`, every sink that rotates its files closes them as segments first, and the
 * manifest lists those segments with their sha256. Never rejects; failures reach the warn channel.
 */
import type { Step } from '../step.js';
import { writeRunManifest } from '../manifest/index.js';
import type { RowPipeline } from '../pipeline/row-pipeline.js';
import type { WarnFn } from '../health.js';

export interface CheckpointOptions {
  step?: Step;
  sha256?: boolean;
  archiveMetrics?: boolean;
  envKeys?: string[];
}

export async function saveCheckpointManifest(
  checkpointPath: string,
  options: CheckpointOptions,
  run: {
    pipeline: RowPipeline;
    runId: string;
    lastStep: Step | undefined;
    env: NodeJS.ProcessEnv;
    warn: WarnFn;
  },
): Promise<string | undefined> {
  const metricsFiles: string[] = [];
  if (options.archiveMetrics) {
    run.pipeline.flushSync();
    for (const sink of run.pipeline.sinkList) metricsFiles.push(...((await sink.archiveSegments?.()) ?? []));
  }
  return writeRunManifest(checkpointPath, {
    step: options.step ?? run.lastStep,
    runId: run.runId,
    sha256: options.sha256 ?? false,
    archiveMetrics: options.archiveMetrics ?? false,
    metricsFiles,
    envKeys: options.envKeys,
    env: run.env,
    warn: run.warn,
  });
}
