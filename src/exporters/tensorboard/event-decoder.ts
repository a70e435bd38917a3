/**
 * Decodes TensorFlow `Event` records (the subset TensorBoard's scalar, histogram and text
 * dashboards read) with protobufjs's Reader. Used by our reader, tests and tooling.
 */
import protobuf from 'protobufjs/minimal.js';

const { Reader } = protobuf;
type PbReader = protobuf.Reader;

export interface DecodedTensor {
  dtype: number;
  shape: number[];
  floatVal: number[];
  doubleVal: number[];
  stringVal: string[];
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

function int64(reader: PbReader): bigint {
  const bits = reader.int64() as unknown as { low: number; high: number } | number;
  if (typeof bits === 'number') return BigInt(bits);
  return BigInt.asIntN(64, (BigInt(bits.high >>> 0) << 32n) | BigInt(bits.low >>> 0));
}

function packedOrSingle(reader: PbReader, wireType: number, read: () => number, into: number[]): void {
  if (wireType === 2) {
    const end = reader.uint32() + reader.pos;
    while (reader.pos < end) into.push(read());
  } else {
    into.push(read());
  }
}

function decodeHisto(reader: PbReader, end: number): NonNullable<DecodedValue['histo']> {
  const histo = {
    min: 0,
    max: 0,
    num: 0,
    sum: 0,
    sumSquares: 0,
    bucketLimit: [] as number[],
    bucket: [] as number[],
  };
  while (reader.pos < end) {
    const key = reader.uint32();
    switch (key >>> 3) {
      case 1:
        histo.min = reader.double();
        break;
      case 2:
        histo.max = reader.double();
        break;
      case 3:
        histo.num = reader.double();
        break;
      case 4:
        histo.sum = reader.double();
        break;
      case 5:
        histo.sumSquares = reader.double();
        break;
      case 6:
        packedOrSingle(reader, key & 7, () => reader.double(), histo.bucketLimit);
        break;
      case 7:
        packedOrSingle(reader, key & 7, () => reader.double(), histo.bucket);
        break;
      default:
        reader.skipType(key & 7);
    }
  }
  return histo;
}

function decodeShape(reader: PbReader, end: number): number[] {
  const dims: number[] = [];
  while (reader.pos < end) {
    const key = reader.uint32();
    if (key >>> 3 === 2) {
      const dimEnd = reader.uint32() + reader.pos;
      let size = 0;
      while (reader.pos < dimEnd) {
        const dimKey = reader.uint32();
        if (dimKey >>> 3 === 1) size = Number(int64(reader));
        else reader.skipType(dimKey & 7);
      }
      dims.push(size);
    } else {
      reader.skipType(key & 7);
    }
  }
  return dims;
}

function decodeTensor(reader: PbReader, end: number): DecodedTensor {
  const tensor: DecodedTensor = { dtype: 0, shape: [], floatVal: [], doubleVal: [], stringVal: [] };
  while (reader.pos < end) {
    const key = reader.uint32();
    switch (key >>> 3) {
      case 1:
        tensor.dtype = reader.int32();
        break;
      case 2:
        tensor.shape = decodeShape(reader, reader.uint32() + reader.pos);
        break;
      case 4:
        tensor.tensorContent = Buffer.from(reader.bytes());
        break;
      case 5:
        packedOrSingle(reader, key & 7, () => reader.float(), tensor.floatVal);
        break;
      case 6:
        packedOrSingle(reader, key & 7, () => reader.double(), tensor.doubleVal);
        break;
      case 8:
        tensor.stringVal.push(Buffer.from(reader.bytes()).toString('utf8'));
        break;
      default:
        reader.skipType(key & 7);
    }
  }
  return tensor;
}

function decodeMetadata(reader: PbReader, end: number, value: DecodedValue): void {
  while (reader.pos < end) {
    const key = reader.uint32();
    if (key >>> 3 === 1) {
      const pluginEnd = reader.uint32() + reader.pos;
      while (reader.pos < pluginEnd) {
        const pluginKey = reader.uint32();
        if (pluginKey >>> 3 === 1) value.pluginName = reader.string();
        else if (pluginKey >>> 3 === 2) value.pluginContent = Buffer.from(reader.bytes());
        else reader.skipType(pluginKey & 7);
      }
    } else if (key >>> 3 === 4) {
      value.dataClass = reader.int32();
    } else {
      reader.skipType(key & 7);
    }
  }
}

function decodeValue(reader: PbReader, end: number): DecodedValue {
  const value: DecodedValue = { tag: '' };
  while (reader.pos < end) {
    const key = reader.uint32();
    switch (key >>> 3) {
      case 1:
        value.tag = reader.string();
        break;
      case 2:
        value.simpleValue = reader.float();
        break;
      case 5:
        value.histo = decodeHisto(reader, reader.uint32() + reader.pos);
        break;
      case 8:
        value.tensor = decodeTensor(reader, reader.uint32() + reader.pos);
        break;
      case 9:
        decodeMetadata(reader, reader.uint32() + reader.pos, value);
        break;
      default:
        reader.skipType(key & 7);
    }
  }
  return value;
}

/** Throws protobufjs's RangeError on malformed protobuf; callers add file and offset. */
export function decodeEvent(payload: Uint8Array): DecodedEvent {
  const reader = Reader.create(payload);
  const event: DecodedEvent = { wallTime: 0, step: 0n };
  while (reader.pos < reader.len) {
    const key = reader.uint32();
    switch (key >>> 3) {
      case 1:
        event.wallTime = reader.double();
        break;
      case 2:
        event.step = int64(reader);
        break;
      case 3:
        event.fileVersion = reader.string();
        break;
      case 5: {
        const end = reader.uint32() + reader.pos;
        const values: DecodedValue[] = [];
        while (reader.pos < end) {
          const summaryKey = reader.uint32();
          if (summaryKey >>> 3 === 1) values.push(decodeValue(reader, reader.uint32() + reader.pos));
          else reader.skipType(summaryKey & 7);
        }
        event.values = values;
        break;
      }
      default:
        reader.skipType(key & 7);
    }
  }
  return event;
}
