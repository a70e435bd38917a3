/**
 * A small protobuf wire-format reader over one byte range. Errors are thrown as plain `Error`s
 * naming the offset within the message; the log reader wraps them with the file and record.
 */
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH, WIRE_VARINT } from './proto-writer.js';

export class ProtoReader {
  private readonly bytes: Uint8Array;
  private pos: number;
  private readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.byteLength) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads the next field key. */
  key(): { field: number; wire: number } {
    const at = this.pos;
    const key = this.varint();
    if (typeof key !== 'number' || key > 0xffffffff) throw new Error(`bad field key at offset ${at}`);
    const field = Math.floor(key / 8);
    if (field === 0) throw new Error(`field number 0 at offset ${at}`);
    return { field, wire: key & 7 };
  }

  /** A varint as a number when it is a safe integer, else as a bigint (uint64). */
  varint(): number | bigint {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error(`varint runs past the end at offset ${this.pos}`);
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
    throw new Error(`varint longer than 10 bytes at offset ${this.pos}`);
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
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }

  /** A length-delimited field's bytes (a view, no copy). */
  lengthDelimited(): Uint8Array {
    const length = this.varint();
    if (typeof length !== 'number') throw new Error(`length too large at offset ${this.pos}`);
    this.need(length);
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  string(): string {
    const bytes = this.lengthDelimited();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
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
        this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new Error(`unsupported wire type ${wire} at offset ${this.pos}`);
    }
  }

  private varintBig(low: bigint, shift: bigint, index: number): number | bigint {
    let result = low;
    let bits = shift;
    for (let i = index; i < 10; i++) {
      if (this.pos >= this.end) throw new Error(`varint runs past the end at offset ${this.pos}`);
      const byte = this.bytes[this.pos++] as number;
      result |= BigInt(byte & 0x7f) << bits;
      if (byte < 0x80) {
        const value = BigInt.asUintN(64, result);
        return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
      }
      bits += 7n;
    }
    throw new Error(`varint longer than 10 bytes at offset ${this.pos}`);
  }

  private need(bytes: number): void {
    if (this.pos + bytes > this.end) {
      throw new Error(`field of ${bytes} bytes runs past the end at offset ${this.pos}`);
    }
  }
}
