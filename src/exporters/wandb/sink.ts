/** Registry entry for the W&B offline run. */
import { newRunId } from '../../config/train-config.js';
import type { SinkDefinition } from '../../pipeline/sink-definition.js';
import { RUN_ID_PATTERN } from './run-dir.js';
import { WandbExporter } from './wandb-exporter.js';

export const wandbSink: SinkDefinition = {
  name: 'wandb',
  enabled: (config) => config.wandbEnable,
  open({ config, health, startTime }) {
    const sink = new WandbExporter({
      dir: config.wandbDir,
      // W&B run ids are 8 characters of [a-z0-9]; another run id gets a W&B id of its own.
      runId: RUN_ID_PATTERN.test(config.runId) ? config.runId : newRunId(),
      project: config.wandbProject,
      entity: config.wandbEntity,
      displayName: config.runName,
      config: config.config,
      startTime,
      health,
      maxQueuedBytes: config.maxSinkQueueBytes,
    });
    return { rowSink: sink, paths: { wandbRunDir: sink.runDir } };
  },
};
