/**
 * nvmlFieldValue_t as laid out by nvml.h: fieldId u32 @0, scopeId u32 @4, timestamp i64 @8,
 * latencyUsec i64 @16, valueType i32 @24, nvmlReturn i32 @28, value (8-byte union) @32.
 */
import { readU64, type NativeBlock } from './nvml-library.js';
import {
  NVML_VALUE_TYPE_DOUBLE,
  NVML_VALUE_TYPE_SIGNED_INT,
  NVML_VALUE_TYPE_SIGNED_LONG_LONG,
  NVML_VALUE_TYPE_UNSIGNED_INT,
  NVML_VALUE_TYPE_UNSIGNED_SHORT,
} from './nvml-return.js';

export const FIELD_VALUE_BYTES = 40;

const result = { code: 0, value: 0 };

/** The entry at byte `offset` (a multiple of 8); the returned object is reused by the next call. */
export function readFieldValue(block: NativeBlock, offset: number): { code: number; value: number } {
  const word = offset / 4;
  result.code = block.i32[word + 7];
  switch (block.i32[word + 6]) {
    case NVML_VALUE_TYPE_DOUBLE:
      result.value = block.f64[(offset + 32) / 8];
      break;
    case NVML_VALUE_TYPE_UNSIGNED_INT:
      result.value = block.u32[word + 8];
      break;
    case NVML_VALUE_TYPE_SIGNED_INT:
      result.value = block.i32[word + 8];
      break;
    case NVML_VALUE_TYPE_UNSIGNED_SHORT:
      result.value = block.u32[word + 8] & 0xffff;
      break;
    case NVML_VALUE_TYPE_SIGNED_LONG_LONG:
      result.value = block.u32[word + 8] + block.i32[word + 9] * 4294967296;
      break;
    default:
      // unsigned long (64-bit on every platform koffi supports but Windows, where NVML says ULL) and unsigned long long.
      result.value = readU64(block.u32, word + 8);
  }
  return result;
}
