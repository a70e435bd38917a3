/** Queries of work, memory, heat, power and clocks (part of GPU_QUERIES). */
import { readU64 } from './nvml-library.js';
import {
  NVML_MEMORY_V2_VERSION,
  NVML_TEMPERATURE_V1_VERSION,
  NVML_CLOCK_GRAPHICS,
  NVML_CLOCK_MEM,
  NVML_CLOCK_SM,
  NVML_ERROR_INSUFFICIENT_SIZE,
  NVML_FI_DEV_MEMORY_TEMP,
  NVML_SUCCESS,
  NVML_TEMPERATURE_GPU,
} from './nvml-return.js';
import { S } from './gpu-slots.js';
import {
  PIDS_NOT_VISIBLE,
  PROCESS_BUFFER_OVERRUN,
  clockQuery,
  eachArg,
  uintQuery,
  type GpuQuery,
} from './gpu-query.js';
import { readFieldValue, FIELD_VALUE_BYTES } from './field-value.js';

/**
 * Bytes per process entry of _v2 and of the unversioned call. _v2 fills the 24-byte
 * nvmlProcessInfo_t in every header from 510 to 13.3; _v3's stride depends on the driver (the
 * context knows it); the unversioned call fills {pid, usedGpuMemory}.
 */
const V2_ENTRY_BYTES = 24;
const V1_ENTRY_BYTES = 16;
/** Every process buffer has room for this many bytes per entry, the largest any driver writes. */
export const MAX_PROCESS_ENTRY_BYTES = 32;

export const GPU_ACTIVITY_QUERIES: readonly GpuQuery[] = [
  {
    field: 'util',
    symbols: ['nvmlDeviceGetUtilizationRates'],
    keys: ['util_percent', 'mem_util_percent'],
    read(call, _variant, { scratch }, device, out) {
      const code = call(device, scratch.address);
      if (code === NVML_SUCCESS) {
        out[S.util] = scratch.u32[0];
        out[S.memUtil] = scratch.u32[1];
      }
      return code;
    },
  },
  {
    field: 'memory',
    // _v2 answers "used" as nvidia-smi shows it; v1's "used" also counts memory the driver reserves.
    symbols: ['nvmlDeviceGetMemoryInfo_v2', 'nvmlDeviceGetMemoryInfo'],
    keys: ['mem_used_bytes', 'mem_total_bytes', 'mem_percent'],
    read(call, variant, { scratch }, device, out) {
      let total: number;
      let used: number;
      if (variant === 0) {
        // nvmlMemory_v2_t: version u32 @0, total @8, reserved @16, free @24, used @32.
        scratch.u32.fill(0, 0, 10);
        scratch.u32[0] = NVML_MEMORY_V2_VERSION;
        const code = call(device, scratch.address);
        if (code !== NVML_SUCCESS) return code;
        total = readU64(scratch.u32, 2);
        used = readU64(scratch.u32, 8);
      } else {
        // nvmlMemory_t: total, free, used (unsigned long long each).
        const code = call(device, scratch.address);
        if (code !== NVML_SUCCESS) return code;
        total = readU64(scratch.u32, 0);
        used = readU64(scratch.u32, 4);
      }
      out[S.memUsed] = used;
      out[S.memTotal] = total;
      if (total > 0) out[S.memPercent] = (used / total) * 100;
      return NVML_SUCCESS;
    },
  },
  {
    field: 'processes',
    // _v2 first: its entry is 24 bytes on every driver, where _v3's is not.
    symbols: [
      'nvmlDeviceGetComputeRunningProcesses_v2',
      'nvmlDeviceGetComputeRunningProcesses_v3',
      'nvmlDeviceGetComputeRunningProcesses',
    ],
    keys: ['proc_mem_used_bytes'],
    read(call, variant, context, device, out) {
      const stride =
        variant === 0 ? V2_ENTRY_BYTES : variant === 1 ? context.v3ProcessStride : V1_ENTRY_BYTES;
      const { scratch } = context;
      // Capacity counts 32-byte entries whatever the stride, so a driver whose entries are larger
      // than we think still never writes past the buffer.
      let capacity = Math.floor(context.block(0).bytes / MAX_PROCESS_ENTRY_BYTES);
      let block = context.block(capacity * MAX_PROCESS_ENTRY_BYTES);
      scratch.u32[0] = capacity;
      let code = call(device, scratch.address, block.address);
      if (code === NVML_ERROR_INSUFFICIENT_SIZE) {
        // More processes than room: NVML said how many; leave space for a few more starting meanwhile.
        capacity = scratch.u32[0] + 16;
        block = context.block(capacity * MAX_PROCESS_ENTRY_BYTES);
        scratch.u32[0] = capacity;
        code = call(device, scratch.address, block.address);
      }
      if (!context.guardIntact()) return PROCESS_BUFFER_OVERRUN;
      if (code !== NVML_SUCCESS) return code;
      const count = Math.min(scratch.u32[0], capacity);
      const words = stride / 4;
      let sum = 0;
      let visible = count === 0;
      for (let i = 0; i < count; i++) {
        const base = i * words;
        const pid = block.u32[base];
        if (!visible && context.pidVisible(pid)) visible = true;
        // usedGpuMemory is NVML_VALUE_NOT_AVAILABLE (all ones) where the driver cannot tell.
        if (block.u32[base + 2] === 0xffffffff && block.u32[base + 3] === 0xffffffff) continue;
        if (context.watched.has(pid)) sum += readU64(block.u32, base + 2);
      }
      // In a container NVML's host pids match nothing here: the sum would be a false 0.
      if (!visible) return PIDS_NOT_VISIBLE;
      out[S.procMem] = sum;
      return code;
    },
  },
  {
    field: 'temp',
    // nvmlDeviceGetTemperature is deprecated in API 13; TemperatureV (R570+) replaces it.
    symbols: ['nvmlDeviceGetTemperatureV', 'nvmlDeviceGetTemperature'],
    keys: ['temp_c'],
    read(call, variant, { scratch }, device, out) {
      if (variant === 0) {
        // nvmlTemperature_t: version u32 @0, sensorType @4, signed temperature @8.
        scratch.u32[0] = NVML_TEMPERATURE_V1_VERSION;
        scratch.i32[1] = NVML_TEMPERATURE_GPU;
        scratch.i32[2] = 0;
        const code = call(device, scratch.address);
        if (code === NVML_SUCCESS) out[S.temp] = scratch.i32[2];
        return code;
      }
      const code = call(device, NVML_TEMPERATURE_GPU, scratch.address);
      if (code === NVML_SUCCESS) out[S.temp] = scratch.u32[0];
      return code;
    },
  },
  {
    field: 'mem_temp',
    symbols: ['nvmlDeviceGetFieldValues'],
    keys: ['mem_temp_c'],
    read(call, _variant, { scratch }, device, out) {
      scratch.u32.fill(0, 0, FIELD_VALUE_BYTES / 4);
      scratch.u32[0] = NVML_FI_DEV_MEMORY_TEMP;
      const code = call(device, 1, scratch.address);
      if (code !== NVML_SUCCESS) return code;
      const value = readFieldValue(scratch, 0);
      if (value.code === NVML_SUCCESS) out[S.memTemp] = value.value;
      return value.code;
    },
  },
  uintQuery('power', 'nvmlDeviceGetPowerUsage', S.power, 'power_w', 1 / 1000),
  uintQuery('power_limit', 'nvmlDeviceGetEnforcedPowerLimit', S.powerLimit, 'power_limit_w', 1 / 1000),
  {
    field: 'energy',
    symbols: ['nvmlDeviceGetTotalEnergyConsumption'],
    keys: ['energy_j'],
    read(call, _variant, { scratch }, device, out) {
      const code = call(device, scratch.address);
      if (code === NVML_SUCCESS) out[S.energy] = readU64(scratch.u32, 0) / 1000;
      return code;
    },
  },
  clockQuery('sm_clock', NVML_CLOCK_SM, S.smClock, 'sm_clock_mhz'),
  clockQuery('mem_clock', NVML_CLOCK_MEM, S.memClock, 'mem_clock_mhz'),
  clockQuery('graphics_clock', NVML_CLOCK_GRAPHICS, S.graphicsClock, 'graphics_clock_mhz'),
  {
    field: 'max_clocks',
    symbols: ['nvmlDeviceGetMaxClockInfo'],
    keys: ['sm_clock_max_mhz', 'mem_clock_max_mhz'],
    once: true,
    read(call, _variant, { scratch }, device, out) {
      const slots = [S.smClockMax, S.memClockMax];
      return eachArg(call, scratch, device, [NVML_CLOCK_SM, NVML_CLOCK_MEM], slots, out);
    },
  },
];
