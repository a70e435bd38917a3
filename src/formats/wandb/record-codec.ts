/**
 * Encodes and decodes `wandb_internal.Record`s in their canonical JSON form (see record-types.ts),
 * driven by the schema table. Proto3 rules: default scalars are not written; a present
 * sub-message is written even when empty (`92 01 00` for an empty exit record).
 */
import { ProtoReader } from '../codec/proto-reader.js';
import { ProtoWriter } from '../codec/proto-writer.js';
import { WIRE_LENGTH, WIRE_VARINT } from '../codec/protobuf-wire.js';
import { RECORD_SCHEMA, type FieldKind, type FieldSchema, type MessageSchema } from './record-schema.js';
import type { WandbRecord } from './record-types.js';
import { formatTimestamp, parseTimestamp } from './timestamp.js';

type JsonObject = Record<string, unknown>;

/** Serializes one Record. The result is a view into `writer` when one is passed (copy before reuse). */
export function encodeRecord(record: WandbRecord, writer: ProtoWriter = new ProtoWriter()): Buffer {
  writer.reset();
  writeMessage(writer, RECORD_SCHEMA, record as JsonObject, 'Record');
  return writer.finish();
}

/** Parses one Record; throws an Error naming the field on malformed bytes. */
export function decodeRecord(bytes: Uint8Array): WandbRecord {
  return readMessage(new ProtoReader(bytes), RECORD_SCHEMA, 'Record') as WandbRecord;
}

function writeMessage(writer: ProtoWriter, schema: MessageSchema, message: JsonObject, path: string): void {
  for (const key of Object.keys(message)) {
    if (message[key] !== undefined && !schema.some((field) => field.name === key)) {
      throw new TypeError(`${path}.${key} is not a field this encoder knows`);
    }
  }
  for (const field of schema) {
    const value = message[field.name];
    if (value === undefined) continue;
    const where = `${path}.${field.name}`;
    if (field.repeated) {
      if (!Array.isArray(value)) throw new TypeError(`${where} must be an array`);
      for (const element of value) writeField(writer, field, element, where, true);
    } else {
      writeField(writer, field, value, where, false);
    }
  }
}

function writeField(
  writer: ProtoWriter,
  field: FieldSchema,
  value: unknown,
  where: string,
  always: boolean,
): void {
  const kind = field.kind;
  if (typeof kind === 'object') {
    if ('message' in kind) {
      if (typeof value !== 'object' || value === null) throw new TypeError(`${where} must be an object`);
      writer.tag(field.no, WIRE_LENGTH).begin();
      writeMessage(writer, kind.message, value as JsonObject, where);
      writer.end();
    } else if ('enum' in kind) {
      const index = kind.enum.indexOf(String(value));
      if (index < 0)
        throw new TypeError(`${where} is ${String(value)}; expected one of ${kind.enum.join(', ')}`);
      if (index !== 0 || always) writer.tag(field.no, WIRE_VARINT).uint32(index);
    } else {
      if (typeof value !== 'string') throw new TypeError(`${where} must be an RFC 3339 string`);
      const { seconds, nanos } = parseTimestamp(value);
      writer.tag(field.no, WIRE_LENGTH).begin();
      if (seconds !== 0) writer.tag(1, WIRE_VARINT).varint64(seconds);
      if (nanos !== 0) writer.tag(2, WIRE_VARINT).uint32(nanos);
      writer.end();
    }
    return;
  }
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') throw new TypeError(`${where} must be a string`);
      if (value !== '' || always) writer.tag(field.no, WIRE_LENGTH).string(value);
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw new TypeError(`${where} must be a boolean`);
      if (value || always) writer.tag(field.no, WIRE_VARINT).uint32(value ? 1 : 0);
      return;
    default: {
      const integer = toInteger(value, kind, where);
      if (integer !== 0 && integer !== 0n) writer.tag(field.no, WIRE_VARINT).varint64(integer);
      else if (always) writer.tag(field.no, WIRE_VARINT).uint32(0);
    }
  }
}

function toInteger(value: unknown, kind: FieldKind, where: string): number | bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new TypeError(`${where} (${String(kind)}) must be an integer, got ${String(value)}`);
}

function readMessage(reader: ProtoReader, schema: MessageSchema, path: string): JsonObject {
  const out: JsonObject = {};
  while (!reader.done) {
    const { field: no, wire } = reader.key();
    const field = schema.find((candidate) => candidate.no === no);
    if (field === undefined) {
      // Fields we do not model (newer W&B versions add some): skip, as protobuf readers do.
      reader.skip(wire);
      continue;
    }
    const where = `${path}.${field.name}`;
    const value = readField(reader, field, wire, where);
    if (field.repeated) ((out[field.name] ??= []) as unknown[]).push(value);
    else out[field.name] = value;
  }
  return out;
}

function readField(reader: ProtoReader, field: FieldSchema, wire: number, where: string): unknown {
  const kind = field.kind;
  const expectWire = (expected: number): void => {
    if (wire !== expected) throw new Error(`${where} has wire type ${wire}, expected ${expected}`);
  };
  if (typeof kind === 'object') {
    if ('enum' in kind) {
      expectWire(WIRE_VARINT);
      const index = Number(reader.varint());
      return kind.enum[index] ?? index;
    }
    expectWire(WIRE_LENGTH);
    const bytes = reader.lengthDelimited();
    if ('message' in kind) return readMessage(new ProtoReader(bytes), kind.message, where);
    const timestamp = readMessage(new ProtoReader(bytes), TIMESTAMP_FIELDS, where);
    // int64 fields decode to decimal strings; a Timestamp's seconds always fit a double.
    return formatTimestamp({
      seconds: Number(timestamp.seconds ?? 0),
      nanos: Number(timestamp.nanos ?? 0),
    });
  }
  switch (kind) {
    case 'string':
      expectWire(WIRE_LENGTH);
      return reader.string();
    case 'bool':
      expectWire(WIRE_VARINT);
      return reader.varint() !== 0;
    case 'int32':
      expectWire(WIRE_VARINT);
      return reader.int32();
    case 'uint32':
      expectWire(WIRE_VARINT);
      return Number(reader.varint()) >>> 0;
    case 'int64':
      expectWire(WIRE_VARINT);
      return String(reader.int64());
    case 'uint64':
      expectWire(WIRE_VARINT);
      return String(reader.varint());
  }
}

/** google.protobuf.Timestamp's own fields (decoded raw, then formatted). */
const TIMESTAMP_FIELDS: MessageSchema = [
  { no: 1, name: 'seconds', kind: 'int64' },
  { no: 2, name: 'nanos', kind: 'int32' },
];
