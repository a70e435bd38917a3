/** Queries of throttling, link traffic, fans, memory errors and MIG (part of GPU_QUERIES). */
import { readU64 } from './nvml-library.js';
import {
  CLOCKS_EVENT_HW_POWER_BRAKE_SLOWDOWN,
  CLOCKS_EVENT_HW_SLOWDOWN,
  CLOCKS_EVENT_HW_THERMAL_SLOWDOWN,
  CLOCKS_EVENT_SW_POWER_CAP,
  CLOCKS_EVENT_SW_THERMAL_SLOWDOWN,
  NVML_AGGREGATE_ECC,
  NVML_ERROR_INSUFFICIENT_SIZE,
  NVML_MEMORY_ERROR_TYPE_CORRECTED,
  NVML_MEMORY_ERROR_TYPE_UNCORRECTED,
  NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR,
  NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS,
  NVML_FI_DEV_PCIE_COUNT_RX_BYTES,
  NVML_FI_DEV_PCIE_COUNT_TX_BYTES,
  NVML_PCIE_UTIL_RX_BYTES,
  NVML_PCIE_UTIL_TX_BYTES,
  NVML_PSTATE_UNKNOWN,
  NVML_SUCCESS,
  NVML_VOLATILE_ECC,
} from './nvml-return.js';
import { S } from './gpu-slots.js';
import { eachArg, uintQuery, type GpuQuery } from './gpu-query.js';
import { FIELD_VALUE_BYTES, readFieldValue } from './field-value.js';

/**
 * nvmlDeviceGetPcieThroughput measures over 20 ms inside the call: it is asked at most this often,
 * and only where the byte counters are missing.
 */
export const PCIE_THROUGHPUT_PERIOD_MS = 10_000;

const ECC_ARGS = [
  [NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_AGGREGATE_ECC],
  [NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_AGGREGATE_ECC],
  [NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_VOLATILE_ECC],
  [NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC],
] as const;
const ECC_SLOTS = [S.eccCorrected, S.eccUncorrected, S.eccCorrectedVolatile, S.eccUncorrectedVolatile];
const PCIE_COUNTERS = [NVML_PCIE_UTIL_TX_BYTES, NVML_PCIE_UTIL_RX_BYTES];
const PCIE_SLOTS = [S.pcieTx, S.pcieRx];

export const GPU_HEALTH_QUERIES: readonly GpuQuery[] = [
  {
    field: 'clock_events',
    symbols: ['nvmlDeviceGetCurrentClocksEventReasons', 'nvmlDeviceGetCurrentClocksThrottleReasons'],
    keys: ['clock_event_reasons', 'throttle_power_cap', 'throttle_thermal', 'throttle_hw_slowdown'],
    read(call, _variant, { scratch }, device, out) {
      const code = call(device, scratch.address);
      if (code === NVML_SUCCESS) {
        // Every defined reason is in the low word; the high word is kept for the bit set's value.
        const low = scratch.u32[0];
        out[S.reasons] = readU64(scratch.u32, 0);
        out[S.powerCap] = low & CLOCKS_EVENT_SW_POWER_CAP ? 1 : 0;
        out[S.thermal] = low & (CLOCKS_EVENT_SW_THERMAL_SLOWDOWN | CLOCKS_EVENT_HW_THERMAL_SLOWDOWN) ? 1 : 0;
        out[S.hwSlowdown] = low & (CLOCKS_EVENT_HW_SLOWDOWN | CLOCKS_EVENT_HW_POWER_BRAKE_SLOWDOWN) ? 1 : 0;
      }
      return code;
    },
  },
  {
    field: 'pstate',
    symbols: ['nvmlDeviceGetPerformanceState'],
    keys: ['pstate'],
    read(call, _variant, { scratch }, device, out) {
      const code = call(device, scratch.address);
      // P-state unknown is an answer, not a failure: the key is absent for this sample.
      if (code === NVML_SUCCESS && scratch.i32[0] !== NVML_PSTATE_UNKNOWN) out[S.pstate] = scratch.i32[0];
      return code;
    },
  },
  {
    // Cumulative byte counters (R570+): the rate is the difference over the interval between two
    // samples, timed by the driver's own timestamps; the call does not wait.
    field: 'pcie_counters',
    symbols: ['nvmlDeviceGetFieldValues'],
    keys: ['pcie_tx_bytes_per_s', 'pcie_rx_bytes_per_s'],
    baseline: true,
    read(call, _variant, { scratch, carry }, device, out) {
      const second = FIELD_VALUE_BYTES / 4;
      scratch.u32.fill(0, 0, 2 * second);
      scratch.u32[0] = NVML_FI_DEV_PCIE_COUNT_TX_BYTES;
      scratch.u32[second] = NVML_FI_DEV_PCIE_COUNT_RX_BYTES;
      const code = call(device, 2, scratch.address);
      if (code !== NVML_SUCCESS) return code;
      // timestamp (µs, signed 64-bit) at byte 8 of each entry; 0 where a driver leaves it out.
      const stamp = readU64(scratch.u32, 2);
      const tx = readFieldValue(scratch, 0);
      if (tx.code !== NVML_SUCCESS) return tx.code;
      const txBytes = tx.value;
      const rx = readFieldValue(scratch, FIELD_VALUE_BYTES);
      if (rx.code !== NVML_SUCCESS) return rx.code;
      const micros = stamp > 0 ? stamp : performance.now() * 1000;
      const seconds = (micros - carry[0]) / 1e6;
      // A counter that went back (a driver reload) gives no rate this sample, not a negative one.
      if (carry[0] > 0 && seconds > 0 && txBytes >= carry[1] && rx.value >= carry[2]) {
        out[S.pcieTx] = (txBytes - carry[1]) / seconds;
        out[S.pcieRx] = (rx.value - carry[2]) / seconds;
      }
      carry[0] = micros;
      carry[1] = txBytes;
      carry[2] = rx.value;
      return NVML_SUCCESS;
    },
  },
  {
    // "KB/s" over a 20 ms window inside the call, taken as KiB/s (x 1024).
    field: 'pcie',
    symbols: ['nvmlDeviceGetPcieThroughput'],
    keys: ['pcie_tx_bytes_per_s', 'pcie_rx_bytes_per_s'],
    fallbackFor: 'pcie_counters',
    periodMs: PCIE_THROUGHPUT_PERIOD_MS,
    read(call, _variant, { scratch }, device, out) {
      const slots = PCIE_SLOTS;
      return eachArg(call, scratch, device, PCIE_COUNTERS, slots, out, 1024);
    },
  },
  uintQuery('fan', 'nvmlDeviceGetFanSpeed', S.fan, 'fan_percent'),
  {
    field: 'ecc',
    symbols: ['nvmlDeviceGetTotalEccErrors'],
    keys: ['ecc_corrected', 'ecc_uncorrected', 'ecc_corrected_volatile', 'ecc_uncorrected_volatile'],
    read(call, _variant, { scratch }, device, out) {
      for (let i = 0; i < ECC_ARGS.length; i++) {
        const code = call(device, ECC_ARGS[i][0], ECC_ARGS[i][1], scratch.address);
        if (code !== NVML_SUCCESS) return code;
        out[ECC_SLOTS[i]] = readU64(scratch.u32, 0);
      }
      return NVML_SUCCESS;
    },
  },
  {
    field: 'retired_pages',
    symbols: ['nvmlDeviceGetRetiredPages'],
    keys: ['retired_pages_sbe', 'retired_pages_dbe'],
    read(call, _variant, { scratch }, device, out) {
      const causes = [
        NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS,
        NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR,
      ];
      const slots = [S.retiredSbe, S.retiredDbe];
      for (let i = 0; i < 2; i++) {
        // A count of 0 with no address buffer asks only how many pages there are.
        scratch.u32[0] = 0;
        const code = call(device, causes[i], scratch.address, 0);
        if (code !== NVML_SUCCESS && code !== NVML_ERROR_INSUFFICIENT_SIZE) return code;
        out[slots[i]] = scratch.u32[0];
      }
      return NVML_SUCCESS;
    },
  },
  uintQuery(
    'retired_pages_pending',
    'nvmlDeviceGetRetiredPagesPendingStatus',
    S.retiredPending,
    'retired_pages_pending',
  ),
  {
    field: 'remapped_rows',
    symbols: ['nvmlDeviceGetRemappedRows'],
    keys: [
      'remapped_rows_correctable',
      'remapped_rows_uncorrectable',
      'remapped_rows_pending',
      'remapped_rows_failure',
    ],
    read(call, _variant, { scratch }, device, out) {
      const a = scratch.address;
      const code = call(device, a, a + 4, a + 8, a + 12);
      if (code === NVML_SUCCESS) {
        out[S.remappedCorrectable] = scratch.u32[0];
        out[S.remappedUncorrectable] = scratch.u32[1];
        out[S.remappedPending] = scratch.u32[2] ? 1 : 0;
        out[S.remappedFailure] = scratch.u32[3] ? 1 : 0;
      }
      return code;
    },
  },
  {
    field: 'mig',
    symbols: ['nvmlDeviceGetMigMode'],
    keys: ['mig_mode'],
    read(call, _variant, { scratch }, device, out) {
      const code = call(device, scratch.address, scratch.address + 4);
      if (code === NVML_SUCCESS) out[S.mig] = scratch.u32[0] ? 1 : 0;
      return code;
    },
  },
];
