/**
 * TensorFlow `Event` / `Summary` protobuf encoding (tensorflow/core/util/event.proto,
 * framework/summary.proto), with our ProtoWriter. Field order and presence follow tensorboardX,
 * so our records are byte-identical to its records for the same input
 * (test/exporters/tensorboard/golden.test.ts).
 */
import type { Step } from '../../step.js';
import { ProtoWriter } from '../codec/proto-writer.js';
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH, WIRE_VARINT } from '../codec/protobuf-wire.js';

export const FILE_VERSION = 'brain.Event:2';

// Field numbers, from event.proto, summary.proto, tensor.proto and tensor_shape.proto.
const EVENT_WALL_TIME = 1;
const EVENT_STEP = 2;
const EVENT_FILE_VERSION = 3;
const EVENT_SUMMARY = 5;
const SUMMARY_VALUE = 1;
const VALUE_TAG = 1;
const VALUE_SIMPLE = 2;
const VALUE_HISTO = 5;
const VALUE_TENSOR = 8;
const VALUE_METADATA = 9;
const METADATA_PLUGIN_DATA = 1;
const PLUGIN_NAME = 1;
const TENSOR_DTYPE = 1;
const TENSOR_SHAPE = 2;
const SHAPE_DIM = 2;
const DIM_SIZE = 1;
const TENSOR_STRING_VAL = 8;
const HISTO_MIN = 1;
const HISTO_MAX = 2;
const HISTO_NUM = 3;
const HISTO_SUM = 4;
const HISTO_SUM_SQUARES = 5;
const HISTO_BUCKET_LIMIT = 6;
const HISTO_BUCKET = 7;
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

/**
 * One writer for every Event: encoding is synchronous, so calls never overlap, and each result is
 * copied out at its exact size instead of allocating a fresh growable buffer per Event.
 */
const shared = new ProtoWriter(1024);

/** The shared writer's bytes, copied (the writer is reused by the next call). */
const finish = (writer: ProtoWriter): Uint8Array => Buffer.from(writer.finish());

/** The shared writer, holding `Event{wall_time, step (omitted when 0)}`, ready for the rest. */
function eventHeader(wallTime: number, step: Step): ProtoWriter {
  // A NaN wall time makes TensorBoard's loader misbehave; the exporter never passes one.
  const writer = shared.reset();
  writer.tag(EVENT_WALL_TIME, WIRE_FIXED64).double(wallTime);
  if (step !== 0 && step !== 0n) writer.tag(EVENT_STEP, WIRE_VARINT).varint64(step);
  return writer;
}

export function encodeFileVersionEvent(wallTime: number): Uint8Array {
  const writer = shared.reset();
  writer.tag(EVENT_WALL_TIME, WIRE_FIXED64).double(wallTime);
  writer.tag(EVENT_FILE_VERSION, WIRE_LENGTH).string(FILE_VERSION);
  return finish(writer);
}

/**
 * One Event holding a `simple_value` (float32) for every tag. The exporter's hot path uses the
 * hand-encoded `encodeScalarsRecord` (scalars-record.ts); this straightforward encoding is kept
 * as its reference: tests check the two agree byte for byte.
 */
export function encodeScalarsEvent(
  wallTime: number,
  step: Step,
  tags: readonly string[],
  values: readonly number[],
): Uint8Array {
  const writer = eventHeader(wallTime, step);
  writer.tag(EVENT_SUMMARY, WIRE_LENGTH).begin();
  for (let i = 0; i < tags.length; i++) {
    writer.tag(SUMMARY_VALUE, WIRE_LENGTH).begin();
    writer.tag(VALUE_TAG, WIRE_LENGTH).string(tags[i] as string);
    writer.tag(VALUE_SIMPLE, WIRE_FIXED32).float(values[i] as number);
    writer.end();
  }
  writer.end();
  return finish(writer);
}

export function encodeHistogramEvent(
  wallTime: number,
  step: Step,
  tag: string,
  histogram: HistogramValue,
): Uint8Array {
  const writer = eventHeader(wallTime, step);
  writer.tag(EVENT_SUMMARY, WIRE_LENGTH).begin();
  writer.tag(SUMMARY_VALUE, WIRE_LENGTH).begin();
  writer.tag(VALUE_TAG, WIRE_LENGTH).string(tag);
  writer.tag(VALUE_HISTO, WIRE_LENGTH).begin();
  writer.tag(HISTO_MIN, WIRE_FIXED64).double(histogram.min);
  writer.tag(HISTO_MAX, WIRE_FIXED64).double(histogram.max);
  writer.tag(HISTO_NUM, WIRE_FIXED64).double(histogram.num);
  writer.tag(HISTO_SUM, WIRE_FIXED64).double(histogram.sum);
  writer.tag(HISTO_SUM_SQUARES, WIRE_FIXED64).double(histogram.sumSquares);
  // Packed repeated doubles, written even when empty, as tensorboardX does.
  writer.tag(HISTO_BUCKET_LIMIT, WIRE_LENGTH).begin();
  for (const limit of histogram.bucketLimit) writer.double(limit);
  writer.end();
  writer.tag(HISTO_BUCKET, WIRE_LENGTH).begin();
  for (const count of histogram.bucket) writer.double(count);
  writer.end();
  writer.end();
  writer.end();
  writer.end();
  return finish(writer);
}

/** A text summary (plugin `text`, DT_STRING tensor of shape [1]), e.g. the run's config as Markdown. */
export function encodeTextEvent(wallTime: number, step: Step, tag: string, text: string): Uint8Array {
  const writer = eventHeader(wallTime, step);
  writer.tag(EVENT_SUMMARY, WIRE_LENGTH).begin();
  writer.tag(SUMMARY_VALUE, WIRE_LENGTH).begin();
  writer.tag(VALUE_TAG, WIRE_LENGTH).string(tag);
  writer.tag(VALUE_TENSOR, WIRE_LENGTH).begin();
  writer.tag(TENSOR_DTYPE, WIRE_VARINT).int32(DT_STRING);
  writer.tag(TENSOR_SHAPE, WIRE_LENGTH).begin();
  writer.tag(SHAPE_DIM, WIRE_LENGTH).begin().tag(DIM_SIZE, WIRE_VARINT).varint64(1).end();
  writer.end();
  writer.tag(TENSOR_STRING_VAL, WIRE_LENGTH).string(text);
  writer.end();
  writer.tag(VALUE_METADATA, WIRE_LENGTH).begin();
  writer.tag(METADATA_PLUGIN_DATA, WIRE_LENGTH).begin().tag(PLUGIN_NAME, WIRE_LENGTH).string('text').end();
  writer.end();
  writer.end();
  writer.end();
  return finish(writer);
}
