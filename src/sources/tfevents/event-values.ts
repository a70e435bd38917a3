/**
 * Which values of a TensorFlow Event TensorBoard draws as scalars, and their numbers:
 *
 * - `simple_value` (tensorboardX, PyTorch's SummaryWriter): a float32, widened exactly;
 * - a rank-0 `tensor` whose tag is known as a scalar (`tf.summary.scalar`, PyTorch's
 *   `new_style`): float32, float64, or an integer type (int64 beyond 2^53 rounds to the nearest
 *   double, as TensorBoard's own JSON does), from the typed `*_val` fields or `tensor_content`.
 *
 * TF2 writes a tag's metadata (plugin `scalars`) only with its first value, so the kind of a tag
 * is remembered per run. Histograms (`histo`, plugin `histograms`), text, images and any other
 * plugin are not drawn: they are named as not shown, with their kind.
 */
import type { DecodedTensor, DecodedValue } from '../../formats/tensorboard/event-decoder.js';

export const DT_FLOAT = 1;
export const DT_DOUBLE = 2;
const DT_INT32 = 3;
const DT_UINT8 = 4;
const DT_INT16 = 5;
const DT_INT8 = 6;
const DT_INT64 = 9;
const DT_UINT16 = 17;
const DT_UINT32 = 22;
const DT_UINT64 = 23;
const DATA_CLASS_SCALAR = 1;

const INTEGER_TYPES = new Set([
  DT_INT32,
  DT_UINT8,
  DT_INT16,
  DT_INT8,
  DT_INT64,
  DT_UINT16,
  DT_UINT32,
  DT_UINT64,
]);

/** Per tag: 'scalar', or what the tag holds instead. */
export type TagKinds = Map<string, string>;

export type ValueReading = { scalar: number } | { notShown: string } | undefined;

/** The number a scalar value holds, what it holds instead, or undefined for a value to ignore. */
export function readValue(value: DecodedValue, kinds: TagKinds): ValueReading {
  if (value.simpleValue !== undefined) return { scalar: value.simpleValue };
  if (value.histo !== undefined) return { notShown: 'histogram' };
  if (value.pluginName !== undefined && value.pluginName !== '') {
    kinds.set(value.tag, value.pluginName === 'scalars' ? 'scalar' : kindOfPlugin(value.pluginName));
  } else if (value.dataClass === DATA_CLASS_SCALAR && !kinds.has(value.tag)) {
    kinds.set(value.tag, 'scalar');
  }
  const kind = kinds.get(value.tag);
  if (value.tensor === undefined) return kind === undefined ? undefined : { notShown: kind };
  if (kind !== 'scalar') return { notShown: kind ?? 'tensor without a plugin' };
  const number = tensorScalar(value.tensor);
  return number === undefined
    ? { notShown: `scalar tensor of dtype ${value.tensor.dtype}` }
    : { scalar: number };
}

function kindOfPlugin(plugin: string): string {
  return plugin === 'histograms' ? 'histogram' : plugin;
}

/** The one number of a rank-0 (or one-element) numeric tensor. */
export function tensorScalar(tensor: DecodedTensor): number | undefined {
  if (tensor.shape.some((dim) => dim !== 1)) return undefined;
  const content = tensor.tensorContent;
  switch (tensor.dtype) {
    case DT_FLOAT:
      if (tensor.floatVal.length > 0) return tensor.floatVal[0];
      return content !== undefined && content.length >= 4 ? content.readFloatLE(0) : undefined;
    case DT_DOUBLE:
      if (tensor.doubleVal.length > 0) return tensor.doubleVal[0];
      return content !== undefined && content.length >= 8 ? content.readDoubleLE(0) : undefined;
    default:
      if (!INTEGER_TYPES.has(tensor.dtype)) return undefined;
      if (tensor.intVal.length > 0) return integerOf(tensor.dtype, tensor.intVal[0] as number | bigint);
      return content === undefined ? undefined : integerContent(tensor.dtype, content);
  }
}

/** int_val holds narrow types sign-extended; uint64 may arrive as a negative int64 varint read. */
function integerOf(dtype: number, value: number | bigint): number {
  if (dtype === DT_UINT64 && typeof value === 'bigint' && value < 0n)
    return Number(BigInt.asUintN(64, value));
  if (dtype === DT_UINT64 && typeof value === 'number' && value < 0)
    return Number(BigInt.asUintN(64, BigInt(value)));
  return Number(value);
}

function integerContent(dtype: number, content: Buffer): number | undefined {
  const need: Record<number, number> = { 3: 4, 4: 1, 5: 2, 6: 1, 9: 8, 17: 2, 22: 4, 23: 8 };
  if (content.length < (need[dtype] ?? Infinity)) return undefined;
  switch (dtype) {
    case DT_INT32:
      return content.readInt32LE(0);
    case DT_UINT8:
      return content.readUInt8(0);
    case DT_INT16:
      return content.readInt16LE(0);
    case DT_INT8:
      return content.readInt8(0);
    case DT_INT64:
      return Number(content.readBigInt64LE(0));
    case DT_UINT16:
      return content.readUInt16LE(0);
    case DT_UINT32:
      return content.readUInt32LE(0);
    default:
      return Number(content.readBigUInt64LE(0));
  }
}
