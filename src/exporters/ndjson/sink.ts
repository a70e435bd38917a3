/** Registry entry for the NDJSON streams: the main file (train + system) and one per evaluation stream. */
import type { ResolvedTrainConfig } from '../../config/train-config.js';
import type { SinkContext, SinkDefinition } from '../../pipeline/sink-definition.js';
import { perRunPath } from '../file/file-claim.js';
import { RotationPolicy } from '../file/rotation-policy.js';
import { NdjsonExporter, type NdjsonExporterOptions } from './ndjson-exporter.js';

export const ndjsonSink: SinkDefinition = {
  name: 'ndjson',
  enabled: (config) => config.ndjson,
  open(context) {
    const sink = new NdjsonExporter({
      path: context.config.metricsOut,
      streams: context.trainStreams,
      sinkName: 'ndjson',
      ...common(context),
    });
    return { rowSink: sink, paths: { metricsOut: sink.path } };
  },
  openStream(context, stream, paths) {
    // The eval stream goes where its train stream went: a run that writes beside another live
    // run's metrics file writes beside its eval file too, rather than racing it for that name
    // (each run could win one race and the two runs' streams would be split across names).
    const beside = paths.metricsOut !== undefined && paths.metricsOut !== context.config.metricsOut;
    const sink = new NdjsonExporter({
      path: beside ? perRunPath(stream.path, context.config.runId) : stream.path,
      streams: [stream.id],
      sinkName: stream.index === 0 ? 'ndjson_eval' : `ndjson_eval_${stream.index}`,
      ...common(context),
    });
    return { rowSink: sink, paths: { evalMetricsOut: [sink.path] } };
  },
};

function common(context: SinkContext): Omit<NdjsonExporterOptions, 'path' | 'streams' | 'sinkName'> {
  const { config } = context;
  return {
    runId: config.runId,
    health: context.health,
    extraTags: rankTags(config),
    rotation: new RotationPolicy({
      maxBytes: config.metricsRotateBytes,
      maxSeconds: config.metricsRotateSeconds,
    }),
    gzipSegments: config.metricsRotateGzip,
    keepSegments: config.metricsRotateKeep,
    info: context.info,
    maxQueuedBytes: config.maxSinkQueueBytes,
  };
}

/** Rank tags on every line of a multi-process run, so merged streams stay apart. */
function rankTags(config: ResolvedTrainConfig): Record<string, number> | undefined {
  if (config.worldSize <= 1) return undefined;
  return { rank: config.rank, local_rank: config.localRank, world_size: config.worldSize };
}
