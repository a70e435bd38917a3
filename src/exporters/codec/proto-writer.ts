/**
 * A small protobuf wire-format writer into one growing buffer. Nested messages reserve the
 * longest length prefix (5 bytes), then slide their bytes back once the length is known, so a
 * whole Record is encoded with no intermediate buffers.
 *
 * Strings are encoded with Node's UTF-8 encoder, which turns lone surrogates into U+FFFD: W&B
 * requires valid UTF-8 and a JavaScript string need not be.
 */
// Varint primitives are shared with the TensorBoard encoder (one implementation, one set of tests).
import { varint32Length as varintLength, writeVarint32 } from './protobuf-wire.js';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH = 2;
export const WIRE_FIXED32 = 5;

const MAX_LENGTH_PREFIX = 5;
const TWO_POW_32 = 2 ** 32;

export class ProtoWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly starts: number[] = [];

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  /** The bytes written so far (a view; copy it before reusing the writer). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): this {
    this.pos = 0;
    this.starts.length = 0;
    return this;
  }

  tag(field: number, wire: number): this {
    return this.uint32((field << 3) | wire);
  }

  /** A non-negative integer below 2^32. */
  uint32(value: number): this {
    this.ensure(5);
    this.pos = writeVarint32(this.buf, this.pos, value);
    return this;
  }

  /** Any int64/uint64 value: a safe integer or a bigint; negatives take ten bytes (two's complement). */
  varint64(value: number | bigint): this {
    if (typeof value === 'number' && value >= 0 && value < TWO_POW_32) return this.uint32(value);
    this.ensure(10);
    let rest = BigInt.asUintN(64, BigInt(value));
    while (rest >= 0x80n) {
      this.buf[this.pos++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.buf[this.pos++] = Number(rest);
    return this;
  }

  double(value: number): this {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
    return this;
  }

  string(value: string): this {
    const byteLength = Buffer.byteLength(value, 'utf8');
    this.uint32(byteLength);
    this.ensure(byteLength);
    this.pos += this.buf.write(value, this.pos, byteLength, 'utf8');
    return this;
  }

  bytes(value: Uint8Array): this {
    this.uint32(value.byteLength);
    this.ensure(value.byteLength);
    this.buf.set(value, this.pos);
    this.pos += value.byteLength;
    return this;
  }

  /** Starts a length-delimited sub-message (after its tag); close it with `end()`. */
  begin(): this {
    this.ensure(MAX_LENGTH_PREFIX);
    this.pos += MAX_LENGTH_PREFIX;
    this.starts.push(this.pos);
    return this;
  }

  end(): this {
    const start = this.starts.pop();
    if (start === undefined) throw new Error('ProtoWriter.end() without begin()');
    const length = this.pos - start;
    const prefix = varintLength(length);
    const at = start - MAX_LENGTH_PREFIX;
    this.pos = at;
    this.uint32(length);
    if (prefix !== MAX_LENGTH_PREFIX) this.buf.copyWithin(this.pos, start, start + length);
    this.pos += length;
    return this;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

export { varintLength, writeVarint32 };
