/** The shape of one per-GPU key declaration (the tables in gpu-*-keys.ts). */
import type { InstrumentSpec } from './instrument-spec.js';

export interface GpuKey {
  /** Suffix of the flat key: `gpu_<i>_<key>`. */
  readonly key: string;
  readonly unit: string;
  /** The NVML call and what of its answer this is. */
  readonly nvml: string;
  /** DCGM exporter field (`DCGM_FI_*`), or a note where DCGM has none. */
  readonly dcgm: string | undefined;
  readonly instrument: InstrumentSpec | undefined;
  /** W&B's name after `gpu.<i>.`, where W&B's system monitor has one. */
  readonly wandb: string | undefined;
}
