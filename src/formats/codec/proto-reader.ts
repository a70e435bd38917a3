/**
 * The protobuf wire-format reader for every message we decode (TensorBoard Events, W&B Records),
 * over one byte range. Malformed bytes throw a ProtoDecodeError naming the offset within the
 * bytes the reader was given (nested readers share them, so offsets stay relative to the whole
 * message); the file readers wrap it with the file name and the record's own offset.
 */
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH, WIRE_VARINT } from './protobuf-wire.js';

/** Bytes that are not a well-formed protobuf message. */
export class ProtoDecodeError extends Error {
  /** Offset of the bad field within the bytes handed to the outermost reader. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'ProtoDecodeError';
    this.offset = offset;
  }
}

/** Strings up to this many bytes that are all ASCII are decoded without Node's decoder. */
const SHORT_STRING = 64;

export interface FieldKey {
  readonly field: number;
  readonly wire: number;
  /** Where the key starts. */
  readonly offset: number;
}

export class ProtoReader {
  private readonly bytes: Uint8Array;
  private pos: number;
  private readonly end: number;
  private view: DataView | undefined;

  constructor(bytes: Uint8Array, start = 0, end = bytes.byteLength) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Where the next read starts, as an offset into the bytes. */
  get offset(): number {
    return this.pos;
  }

  /** Reads the next field key; `offset` is where the key starts, for errors about the field. */
  key(): FieldKey {
    const offset = this.pos;
    const key = this.varint();
    if (typeof key !== 'number' || key > 0xffffffff) throw new ProtoDecodeError('bad field key', offset);
    const field = Math.floor(key / 8);
    if (field === 0) throw new ProtoDecodeError('field number 0', offset);
    return { field, wire: key % 8, offset };
  }

  /** Throws unless the field has wire type `wire`: a known field of another type is malformed. */
  expectWire(key: FieldKey, wire: number): void {
    if (key.wire !== wire) {
      throw new ProtoDecodeError(
        `field ${key.field} has wire type ${key.wire}, expected ${wire}`,
        key.offset,
      );
    }
  }

  /** A varint as a number when it is a safe integer, else as a bigint (uint64). */
  varint(): number | bigint {
    // One byte: field keys, small lengths and counts.
    if (this.pos < this.end && (this.bytes[this.pos] as number) < 0x80)
      return this.bytes[this.pos++] as number;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoDecodeError('varint runs past the end', this.pos);
      const byte = this.bytes[this.pos++] as number;
      if (shift < 49) {
        result += (byte & 0x7f) * 2 ** shift;
        if (byte < 0x80) return result;
        shift += 7;
        continue;
      }
      // Past 49 bits a number could lose precision: finish in bigint.
      this.pos--;
      return this.varintBig(BigInt(result), BigInt(shift), i);
    }
    throw new ProtoDecodeError('varint longer than 10 bytes', this.pos);
  }

  /** A varint holding a uint32 (a length, an enum, a count); larger values are malformed. */
  uint32(): number {
    const at = this.pos;
    const value = this.varint();
    if (typeof value !== 'number' || value > 0xffffffff) {
      throw new ProtoDecodeError(`uint32 out of range (${value})`, at);
    }
    return value;
  }

  /** A varint holding an int64: negative values come back negative. */
  int64(): number | bigint {
    const raw = this.varint();
    if (typeof raw === 'number') return raw;
    const signed = BigInt.asIntN(64, raw);
    return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(signed)
      : signed;
  }

  /** A varint holding an int32 (negative int32s are sign-extended to ten bytes). */
  int32(): number {
    const raw = this.varint();
    return Number(BigInt.asIntN(32, BigInt(raw)));
  }

  double(): number {
    this.need(8);
    const value = this.dataView().getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  float(): number {
    this.need(4);
    const value = this.dataView().getFloat32(this.pos, true);
    this.pos += 4;
    return value;
  }

  /** A length-delimited field's bytes (a view, no copy). */
  lengthDelimited(): Uint8Array {
    const [start, end] = this.range();
    return this.bytes.subarray(start, end);
  }

  /** A length-delimited field (a sub-message or packed values) as a reader over its bytes. */
  message(): ProtoReader {
    const [start, end] = this.range();
    const nested = new ProtoReader(this.bytes, start, end);
    nested.view = this.dataView();
    return nested;
  }

  string(): string {
    const [start, end] = this.range();
    // Short ASCII strings are decoded in JS, which is cheaper than a trip into Node's decoder;
    // anything else (including malformed UTF-8, which becomes U+FFFD) takes the decoder.
    if (end - start <= SHORT_STRING) {
      let text = '';
      let i = start;
      for (; i < end; i++) {
        const byte = this.bytes[i] as number;
        if (byte >= 0x80) break;
        text += String.fromCharCode(byte);
      }
      if (i === end) return text;
    }
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, end - start).toString('utf8');
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE_LENGTH:
        this.range();
        return;
      case WIRE_FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtoDecodeError(`unsupported wire type ${wire}`, this.pos);
    }
  }

  /** Reads a length prefix and steps over the bytes it announces; returns their [start, end). */
  private range(): [number, number] {
    const at = this.pos;
    const length = this.varint();
    if (typeof length !== 'number') throw new ProtoDecodeError('length too large', at);
    this.need(length);
    const start = this.pos;
    this.pos += length;
    return [start, this.pos];
  }

  private varintBig(low: bigint, shift: bigint, index: number): number | bigint {
    let result = low;
    let bits = shift;
    for (let i = index; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoDecodeError('varint runs past the end', this.pos);
      const byte = this.bytes[this.pos++] as number;
      result |= BigInt(byte & 0x7f) << bits;
      if (byte < 0x80) {
        const value = BigInt.asUintN(64, result);
        return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
      }
      bits += 7n;
    }
    throw new ProtoDecodeError('varint longer than 10 bytes', this.pos);
  }

  private need(bytes: number): void {
    if (this.pos + bytes > this.end) {
      throw new ProtoDecodeError(`field of ${bytes} bytes runs past the end`, this.pos);
    }
  }

  private dataView(): DataView {
    this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.view;
  }
}
