/**
 * Decodes TensorFlow `Event` records (the subset TensorBoard's scalar, histogram and text
 * dashboards read) with our ProtoReader. Used by our reader, tests and tooling.
 */
import { ProtoReader, type FieldKey } from '../codec/proto-reader.js';
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH, WIRE_VARINT } from '../codec/protobuf-wire.js';

export interface DecodedTensor {
  dtype: number;
  shape: number[];
  floatVal: number[];
  doubleVal: number[];
  stringVal: string[];
  /** int_val, int64_val, uint32_val, uint64_val and half_val (raw bits), each as written. */
  intVal: Array<number | bigint>;
  tensorContent?: Buffer;
}

export interface DecodedValue {
  tag: string;
  simpleValue?: number;
  histo?: {
    min: number;
    max: number;
    num: number;
    sum: number;
    sumSquares: number;
    bucketLimit: number[];
    bucket: number[];
  };
  tensor?: DecodedTensor;
  pluginName?: string;
  pluginContent?: Buffer;
  dataClass?: number;
}

export interface DecodedEvent {
  wallTime: number;
  /** int64, exact. */
  step: bigint;
  fileVersion?: string;
  values?: DecodedValue[];
}

const copy = (bytes: Uint8Array): Buffer => Buffer.from(bytes);
const readDouble = (from: ProtoReader): number => from.double();
const readFloat = (from: ProtoReader): number => from.float();

/** A repeated integer field, packed or one value per field. */
function readRepeatedVarint(reader: ProtoReader, key: FieldKey, into: Array<number | bigint>): void {
  if (key.wire === WIRE_LENGTH) {
    const packed = reader.message();
    while (!packed.done) into.push(packed.int64());
    return;
  }
  reader.expectWire(key, WIRE_VARINT);
  into.push(reader.int64());
}

/** A repeated double or float, packed (wire type 2) or one value per field (`wire`). */
function readRepeated(
  reader: ProtoReader,
  key: FieldKey,
  wire: number,
  read: (from: ProtoReader) => number,
  into: number[],
): void {
  if (key.wire === WIRE_LENGTH) {
    const packed = reader.message();
    while (!packed.done) into.push(read(packed));
    return;
  }
  reader.expectWire(key, wire);
  into.push(read(reader));
}

function decodeHisto(reader: ProtoReader): NonNullable<DecodedValue['histo']> {
  const histo = {
    min: 0,
    max: 0,
    num: 0,
    sum: 0,
    sumSquares: 0,
    bucketLimit: [] as number[],
    bucket: [] as number[],
  };
  while (!reader.done) {
    const key = reader.key();
    switch (key.field) {
      case 1:
        reader.expectWire(key, WIRE_FIXED64);
        histo.min = reader.double();
        break;
      case 2:
        reader.expectWire(key, WIRE_FIXED64);
        histo.max = reader.double();
        break;
      case 3:
        reader.expectWire(key, WIRE_FIXED64);
        histo.num = reader.double();
        break;
      case 4:
        reader.expectWire(key, WIRE_FIXED64);
        histo.sum = reader.double();
        break;
      case 5:
        reader.expectWire(key, WIRE_FIXED64);
        histo.sumSquares = reader.double();
        break;
      case 6:
        readRepeated(reader, key, WIRE_FIXED64, readDouble, histo.bucketLimit);
        break;
      case 7:
        readRepeated(reader, key, WIRE_FIXED64, readDouble, histo.bucket);
        break;
      default:
        reader.skip(key.wire);
    }
  }
  return histo;
}

function decodeShape(reader: ProtoReader): number[] {
  const dims: number[] = [];
  while (!reader.done) {
    const key = reader.key();
    if (key.field !== 2) {
      reader.skip(key.wire);
      continue;
    }
    reader.expectWire(key, WIRE_LENGTH);
    const dim = reader.message();
    let size = 0;
    while (!dim.done) {
      const dimKey = dim.key();
      if (dimKey.field === 1) {
        dim.expectWire(dimKey, WIRE_VARINT);
        size = Number(dim.int64());
      } else {
        dim.skip(dimKey.wire);
      }
    }
    dims.push(size);
  }
  return dims;
}

function decodeTensor(reader: ProtoReader): DecodedTensor {
  const tensor: DecodedTensor = {
    dtype: 0,
    shape: [],
    floatVal: [],
    doubleVal: [],
    stringVal: [],
    intVal: [],
  };
  while (!reader.done) {
    const key = reader.key();
    switch (key.field) {
      case 1:
        reader.expectWire(key, WIRE_VARINT);
        tensor.dtype = reader.int32();
        break;
      case 2:
        reader.expectWire(key, WIRE_LENGTH);
        tensor.shape = decodeShape(reader.message());
        break;
      case 4:
        reader.expectWire(key, WIRE_LENGTH);
        tensor.tensorContent = copy(reader.lengthDelimited());
        break;
      case 5:
        readRepeated(reader, key, WIRE_FIXED32, readFloat, tensor.floatVal);
        break;
      case 6:
        readRepeated(reader, key, WIRE_FIXED64, readDouble, tensor.doubleVal);
        break;
      case 8:
        reader.expectWire(key, WIRE_LENGTH);
        tensor.stringVal.push(reader.string());
        break;
      case 7: // int_val (DT_INT32, DT_INT16, DT_INT8, DT_UINT8, DT_UINT16)
      case 10: // int64_val
      case 13: // half_val (DT_HALF, DT_BFLOAT16: the 16 bits)
      case 16: // uint32_val
      case 17: // uint64_val
        readRepeatedVarint(reader, key, tensor.intVal);
        break;
      default:
        reader.skip(key.wire);
    }
  }
  return tensor;
}

function decodeMetadata(reader: ProtoReader, value: DecodedValue): void {
  while (!reader.done) {
    const key = reader.key();
    if (key.field === 1) {
      reader.expectWire(key, WIRE_LENGTH);
      const plugin = reader.message();
      while (!plugin.done) {
        const pluginKey = plugin.key();
        if (pluginKey.field === 1) {
          plugin.expectWire(pluginKey, WIRE_LENGTH);
          value.pluginName = plugin.string();
        } else if (pluginKey.field === 2) {
          plugin.expectWire(pluginKey, WIRE_LENGTH);
          value.pluginContent = copy(plugin.lengthDelimited());
        } else {
          plugin.skip(pluginKey.wire);
        }
      }
    } else if (key.field === 4) {
      reader.expectWire(key, WIRE_VARINT);
      value.dataClass = reader.int32();
    } else {
      reader.skip(key.wire);
    }
  }
}

function decodeValue(reader: ProtoReader): DecodedValue {
  const value: DecodedValue = { tag: '' };
  while (!reader.done) {
    const key = reader.key();
    switch (key.field) {
      case 1:
        reader.expectWire(key, WIRE_LENGTH);
        value.tag = reader.string();
        break;
      case 2:
        reader.expectWire(key, WIRE_FIXED32);
        value.simpleValue = reader.float();
        break;
      case 5:
        reader.expectWire(key, WIRE_LENGTH);
        value.histo = decodeHisto(reader.message());
        break;
      case 8:
        reader.expectWire(key, WIRE_LENGTH);
        value.tensor = decodeTensor(reader.message());
        break;
      case 9:
        reader.expectWire(key, WIRE_LENGTH);
        decodeMetadata(reader.message(), value);
        break;
      default:
        reader.skip(key.wire);
    }
  }
  return value;
}

/**
 * Throws a ProtoDecodeError (naming the offset in `payload`) on malformed bytes; callers add the
 * file and the record's offset.
 */
export function decodeEvent(payload: Uint8Array): DecodedEvent {
  const reader = new ProtoReader(payload);
  const event: DecodedEvent = { wallTime: 0, step: 0n };
  while (!reader.done) {
    const key = reader.key();
    switch (key.field) {
      case 1:
        reader.expectWire(key, WIRE_FIXED64);
        event.wallTime = reader.double();
        break;
      case 2:
        reader.expectWire(key, WIRE_VARINT);
        event.step = BigInt(reader.int64());
        break;
      case 3:
        reader.expectWire(key, WIRE_LENGTH);
        event.fileVersion = reader.string();
        break;
      case 5: {
        reader.expectWire(key, WIRE_LENGTH);
        const summary = reader.message();
        const values: DecodedValue[] = [];
        while (!summary.done) {
          const summaryKey = summary.key();
          if (summaryKey.field === 1) {
            summary.expectWire(summaryKey, WIRE_LENGTH);
            values.push(decodeValue(summary.message()));
          } else {
            summary.skip(summaryKey.wire);
          }
        }
        event.values = values;
        break;
      }
      default:
        reader.skip(key.wire);
    }
  }
  return event;
}
