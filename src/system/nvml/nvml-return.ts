/** nvmlReturn_t values and the enums the sampler passes (NVIDIA nvml.h). */
export const NVML_SUCCESS = 0;
export const NVML_ERROR_UNINITIALIZED = 1;
export const NVML_ERROR_INVALID_ARGUMENT = 2;
export const NVML_ERROR_NOT_SUPPORTED = 3;
export const NVML_ERROR_NO_PERMISSION = 4;
export const NVML_ERROR_NOT_FOUND = 6;
export const NVML_ERROR_INSUFFICIENT_SIZE = 7;
export const NVML_ERROR_DRIVER_NOT_LOADED = 9;
export const NVML_ERROR_GPU_IS_LOST = 15;
export const NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25;
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
/** nvmlPcieUtilCounter_t */
export const NVML_PCIE_UTIL_TX_BYTES = 0;
export const NVML_PCIE_UTIL_RX_BYTES = 1;
/** nvmlPageRetirementCause_t */
export const NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS = 0;
export const NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR = 1;
/** nvmlPstates_t: P0..P15, or this when the driver cannot tell. */
export const NVML_PSTATE_UNKNOWN = 32;
/** Field id of nvmlDeviceGetFieldValues for the memory (HBM) temperature. */
export const NVML_FI_DEV_MEMORY_TEMP = 82;
/** Cumulative PCIe bytes sent and received (R570+ drivers; NOT_SUPPORTED in the entry before). */
export const NVML_FI_DEV_PCIE_COUNT_TX_BYTES = 197;
export const NVML_FI_DEV_PCIE_COUNT_RX_BYTES = 198;
/** Versioned structs: the struct size in the low 24 bits, the version above (nvml.h NVML_STRUCT_VERSION). */
export const NVML_MEMORY_V2_VERSION = 0x02000028;
export const NVML_TEMPERATURE_V1_VERSION = 0x0100000c;
/** nvmlValueType_t */
export const NVML_VALUE_TYPE_DOUBLE = 0;
export const NVML_VALUE_TYPE_UNSIGNED_INT = 1;
export const NVML_VALUE_TYPE_UNSIGNED_LONG = 2;
export const NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3;
export const NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4;
export const NVML_VALUE_TYPE_SIGNED_INT = 5;
export const NVML_VALUE_TYPE_UNSIGNED_SHORT = 6;

/**
 * nvmlClocksEventReasons bits (the older name is "throttle reasons"). The booleans the sampler
 * reports group them as users ask: is the GPU slowed by its power cap, by heat, or by hardware?
 */
export const CLOCKS_EVENT_SW_POWER_CAP = 0x4;
export const CLOCKS_EVENT_HW_SLOWDOWN = 0x8;
export const CLOCKS_EVENT_SW_THERMAL_SLOWDOWN = 0x20;
export const CLOCKS_EVENT_HW_THERMAL_SLOWDOWN = 0x40;
export const CLOCKS_EVENT_HW_POWER_BRAKE_SLOWDOWN = 0x80;

/** Buffer sizes nvml.h names (the _V2 sizes are the larger ones, safe for every driver). */
export const NVML_DEVICE_NAME_V2_BUFFER_SIZE = 96;
export const NVML_DEVICE_UUID_V2_BUFFER_SIZE = 96;
export const NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE = 80;
