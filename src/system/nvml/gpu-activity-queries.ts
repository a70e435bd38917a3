/** Queries of work, memory, heat, power and clocks (part of GPU_QUERIES). */
import { readU64 } from './nvml-library.js';
import {
  NVML_CLOCK_GRAPHICS,
  NVML_CLOCK_MEM,
  NVML_CLOCK_SM,
  NVML_ERROR_INSUFFICIENT_SIZE,
  NVML_FI_DEV_MEMORY_TEMP,
  NVML_SUCCESS,
  NVML_TEMPERATURE_GPU,
} from './nvml-return.js';
import { S } from './gpu-slots.js';
import { clockQuery, eachArg, uintQuery, type GpuQuery } from './gpu-query.js';
import { readFieldValue, FIELD_VALUE_BYTES } from './field-value.js';

/** Entry sizes of the process-info structs: v1 {pid, usedGpuMemory}; v2 and v3 add two instance ids. */
const PROCESS_ENTRY_BYTES = [24, 24, 16];
const INITIAL_PROCESS_ENTRIES = 64;

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
    symbols: ['nvmlDeviceGetMemoryInfo'],
    keys: ['mem_used_bytes', 'mem_total_bytes', 'mem_percent'],
    read(call, _variant, { scratch }, device, out) {
      const code = call(device, scratch.address);
      if (code === NVML_SUCCESS) {
        // nvmlMemory_t: total, free, used (unsigned long long each).
        const total = readU64(scratch.u32, 0);
        const used = readU64(scratch.u32, 4);
        out[S.memUsed] = used;
        out[S.memTotal] = total;
        if (total > 0) out[S.memPercent] = (used / total) * 100;
      }
      return code;
    },
  },
  {
    field: 'processes',
    symbols: [
      'nvmlDeviceGetComputeRunningProcesses_v3',
      'nvmlDeviceGetComputeRunningProcesses_v2',
      'nvmlDeviceGetComputeRunningProcesses',
    ],
    keys: ['proc_mem_used_bytes'],
    read(call, variant, context, device, out) {
      const entryBytes = PROCESS_ENTRY_BYTES[variant];
      const { scratch } = context;
      let capacity = Math.floor(context.block(0).bytes / entryBytes) || INITIAL_PROCESS_ENTRIES;
      let block = context.block(capacity * entryBytes);
      scratch.u32[0] = capacity;
      let code = call(device, scratch.address, block.address);
      if (code === NVML_ERROR_INSUFFICIENT_SIZE) {
        // More processes than room: NVML said how many; leave space for a few more starting meanwhile.
        capacity = scratch.u32[0] + 16;
        block = context.block(capacity * entryBytes);
        scratch.u32[0] = capacity;
        code = call(device, scratch.address, block.address);
      }
      if (code !== NVML_SUCCESS) return code;
      const count = scratch.u32[0];
      const words = entryBytes / 4;
      let sum = 0;
      for (let i = 0; i < count; i++) {
        const base = i * words;
        // usedGpuMemory is NVML_VALUE_NOT_AVAILABLE (all ones) where the driver cannot tell.
        if (block.u32[base + 2] === 0xffffffff && block.u32[base + 3] === 0xffffffff) continue;
        if (context.watched.has(block.u32[base])) sum += readU64(block.u32, base + 2);
      }
      out[S.procMem] = sum;
      return code;
    },
  },
  {
    field: 'temp',
    symbols: ['nvmlDeviceGetTemperature'],
    keys: ['temp_c'],
    read(call, _variant, { scratch }, device, out) {
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
