/** Registry entry for TensorBoard event files. */
import type { SinkDefinition } from '../../pipeline/sink-definition.js';
import { RotationPolicy } from '../file/rotation-policy.js';
import { TensorBoardExporter } from './tensorboard-exporter.js';

export const tensorboardSink: SinkDefinition = {
  name: 'tensorboard',
  enabled: (config) => config.tensorboard,
  open({ config, health }) {
    const sink = new TensorBoardExporter({
      logdir: config.tensorboardDir,
      runName: config.runName,
      health,
      rotation: new RotationPolicy({ maxBytes: config.tensorboardRotateBytes }),
      config: config.config,
      maxQueuedBytes: config.maxSinkQueueBytes,
    });
    return { rowSink: sink, paths: { tensorboardDir: config.tensorboardDir } };
  },
};
