/**
 * TensorFlow `Event` / `Summary` protobuf encoding (tensorflow/core/util/event.proto,
 * framework/summary.proto), with protobufjs's Writer. Field order and presence follow
 * tensorboardX, so our records are byte-identical to its records for the same input.
 */
import protobuf from 'protobufjs/minimal.js';
import type { Step } from '../../instruments/step-row.js';

const { Writer } = protobuf;
type PbWriter = protobuf.Writer;

export const FILE_VERSION = 'brain.Event:2';

// Field keys: (field number << 3) | wire type.
const EVENT_WALL_TIME = (1 << 3) | 1;
const EVENT_STEP = (2 << 3) | 0;
const EVENT_FILE_VERSION = (3 << 3) | 2;
const EVENT_SUMMARY = (5 << 3) | 2;
const SUMMARY_VALUE = (1 << 3) | 2;
const VALUE_TAG = (1 << 3) | 2;
const VALUE_SIMPLE = (2 << 3) | 5;
const VALUE_HISTO = (5 << 3) | 2;
const VALUE_TENSOR = (8 << 3) | 2;
const VALUE_METADATA = (9 << 3) | 2;
const METADATA_PLUGIN_DATA = (1 << 3) | 2;
const PLUGIN_NAME = (1 << 3) | 2;
const TENSOR_DTYPE = (1 << 3) | 0;
const TENSOR_SHAPE = (2 << 3) | 2;
const SHAPE_DIM = (2 << 3) | 2;
const DIM_SIZE = (1 << 3) | 0;
const TENSOR_STRING_VAL = (8 << 3) | 2;
const HISTO_MIN = (1 << 3) | 1;
const HISTO_MAX = (2 << 3) | 1;
const HISTO_NUM = (3 << 3) | 1;
const HISTO_SUM = (4 << 3) | 1;
const HISTO_SUM_SQUARES = (5 << 3) | 1;
const HISTO_BUCKET_LIMIT = (6 << 3) | 2;
const HISTO_BUCKET = (7 << 3) | 2;
const DT_STRING = 7;

export interface HistogramValue {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  /** Upper edge of each bucket (the last may be +Inf / DBL_MAX). */
  bucketLimit: readonly number[];
  bucket: readonly number[];
}

/** int64 as protobufjs LongBits-compatible halves (two's complement), exact for every int64. */
function int64Bits(step: Step): { low: number; high: number } {
  if (typeof step === 'number' && Number.isSafeInteger(step) && step >= 0 && step <= 0xffffffff) {
    return { low: step, high: 0 };
  }
  const big = BigInt.asUintN(64, BigInt(step));
  return { low: Number(big & 0xffffffffn), high: Number(big >> 32n) };
}

function eventHeader(writer: PbWriter, wallTime: number, step: Step): void {
  // A NaN wall time makes TensorBoard's loader misbehave; the exporter never passes one.
  writer.uint32(EVENT_WALL_TIME).double(wallTime);
  if (step !== 0 && step !== 0n) writer.uint32(EVENT_STEP).int64(int64Bits(step) as unknown as number);
}

export function encodeFileVersionEvent(wallTime: number): Uint8Array {
  const writer = Writer.create();
  writer.uint32(EVENT_WALL_TIME).double(wallTime);
  writer.uint32(EVENT_FILE_VERSION).string(FILE_VERSION);
  return writer.finish();
}

/**
 * One Event holding a `simple_value` (float32) for every tag, with protobufjs. The exporter's hot
 * path uses the hand-encoded `encodeScalarsRecord` (scalars-record.ts, about 2× faster); this
 * straightforward encoding is kept as its reference: tests check the two agree byte for byte.
 */
export function encodeScalarsEvent(
  wallTime: number,
  step: Step,
  tags: readonly string[],
  values: readonly number[],
): Uint8Array {
  const writer = Writer.create();
  eventHeader(writer, wallTime, step);
  writer.uint32(EVENT_SUMMARY).fork();
  for (let i = 0; i < tags.length; i++) {
    writer.uint32(SUMMARY_VALUE).fork();
    writer.uint32(VALUE_TAG).string(tags[i] as string);
    writer.uint32(VALUE_SIMPLE).float(values[i] as number);
    writer.ldelim();
  }
  writer.ldelim();
  return writer.finish();
}

export function encodeHistogramEvent(
  wallTime: number,
  step: Step,
  tag: string,
  histogram: HistogramValue,
): Uint8Array {
  const writer = Writer.create();
  eventHeader(writer, wallTime, step);
  writer.uint32(EVENT_SUMMARY).fork();
  writer.uint32(SUMMARY_VALUE).fork();
  writer.uint32(VALUE_TAG).string(tag);
  writer.uint32(VALUE_HISTO).fork();
  writer.uint32(HISTO_MIN).double(histogram.min);
  writer.uint32(HISTO_MAX).double(histogram.max);
  writer.uint32(HISTO_NUM).double(histogram.num);
  writer.uint32(HISTO_SUM).double(histogram.sum);
  writer.uint32(HISTO_SUM_SQUARES).double(histogram.sumSquares);
  writer.uint32(HISTO_BUCKET_LIMIT).fork();
  for (const limit of histogram.bucketLimit) writer.double(limit);
  writer.ldelim();
  writer.uint32(HISTO_BUCKET).fork();
  for (const count of histogram.bucket) writer.double(count);
  writer.ldelim();
  writer.ldelim();
  writer.ldelim();
  writer.ldelim();
  return writer.finish();
}

/** A text summary (plugin `text`, DT_STRING tensor of shape [1]), e.g. the run's config as Markdown. */
export function encodeTextEvent(wallTime: number, step: Step, tag: string, text: string): Uint8Array {
  const writer = Writer.create();
  eventHeader(writer, wallTime, step);
  writer.uint32(EVENT_SUMMARY).fork();
  writer.uint32(SUMMARY_VALUE).fork();
  writer.uint32(VALUE_TAG).string(tag);
  writer.uint32(VALUE_TENSOR).fork();
  writer.uint32(TENSOR_DTYPE).int32(DT_STRING);
  writer.uint32(TENSOR_SHAPE).fork().uint32(SHAPE_DIM).fork().uint32(DIM_SIZE).int64(1).ldelim().ldelim();
  writer.uint32(TENSOR_STRING_VAL).bytes(Buffer.from(text, 'utf8'));
  writer.ldelim();
  writer
    .uint32(VALUE_METADATA)
    .fork()
    .uint32(METADATA_PLUGIN_DATA)
    .fork()
    .uint32(PLUGIN_NAME)
    .string('text')
    .ldelim()
    .ldelim();
  writer.ldelim();
  writer.ldelim();
  return writer.finish();
}
