/** nvmlReturn_t values the sampler acts on (NVIDIA nvml.h). */
export const NVML_SUCCESS = 0;
export const NVML_ERROR_UNINITIALIZED = 1;
export const NVML_ERROR_INVALID_ARGUMENT = 2;
export const NVML_ERROR_NOT_SUPPORTED = 3;
export const NVML_ERROR_NO_PERMISSION = 4;
export const NVML_ERROR_NOT_FOUND = 6;
export const NVML_ERROR_INSUFFICIENT_SIZE = 7;
export const NVML_ERROR_DRIVER_NOT_LOADED = 9;
export const NVML_ERROR_GPU_IS_LOST = 15;
export const NVML_ERROR_UNKNOWN = 999;

/** nvmlTemperatureSensors_t */
export const NVML_TEMPERATURE_GPU = 0;
/** nvmlClockType_t */
export const NVML_CLOCK_GRAPHICS = 0;
export const NVML_CLOCK_SM = 1;
export const NVML_CLOCK_MEM = 2;
/** nvmlMemoryErrorType_t */
export const NVML_MEMORY_ERROR_TYPE_CORRECTED = 0;
export const NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1;
/** nvmlEccCounterType_t: volatile counts since the driver loaded, aggregate over the GPU's life. */
export const NVML_VOLATILE_ECC = 0;
export const NVML_AGGREGATE_ECC = 1;

/** Buffer sizes nvml.h names (the _V2 sizes are the larger ones, safe for every driver). */
export const NVML_DEVICE_NAME_V2_BUFFER_SIZE = 96;
export const NVML_DEVICE_UUID_V2_BUFFER_SIZE = 96;
export const NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE = 80;
