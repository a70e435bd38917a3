/** Identity of one sampled GPU: the attributes `hw.*` instruments carry. */
export interface GpuInfo {
  /** NVML index, as nvidia-smi numbers GPUs; the `<i>` of the flat keys `gpu_<i>_*`. */
  readonly index: number;
  readonly uuid: string;
  readonly name: string;
  readonly driverVersion: string;
}
