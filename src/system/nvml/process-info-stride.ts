/**
 * How far apart nvmlDeviceGetComputeRunningProcesses_v3 writes its entries. nvmlProcessInfo_t is
 * 24 bytes in every nvml.h from 510 to 13.3 except CUDA 12.2's, which added
 * usedGpuCcProtectedMemory (32 bytes); the drivers built with that header are 535.43.02 to
 * 535.86.x. Where the version string cannot be read, the symbols tell: that header brought
 * nvmlDeviceGetConfComputeMemSizeInfo, and the next one (with the field gone again)
 * nvmlDeviceGetRunningProcessDetailList.
 */
export const V3_ENTRY_BYTES = 24;
export const V3_ENTRY_BYTES_CUDA_12_2 = 32;

export function v3ProcessStride(driverVersion: string, has: (symbol: string) => boolean): number {
  const match = /^(\d+)\.(\d+)/.exec(driverVersion);
  if (match) {
    const major = Number(match[1]);
    const minor = Number(match[2]);
    return major === 535 && minor >= 43 && minor <= 86 ? V3_ENTRY_BYTES_CUDA_12_2 : V3_ENTRY_BYTES;
  }
  return has('nvmlDeviceGetConfComputeMemSizeInfo') && !has('nvmlDeviceGetRunningProcessDetailList')
    ? V3_ENTRY_BYTES_CUDA_12_2
    : V3_ENTRY_BYTES;
}
