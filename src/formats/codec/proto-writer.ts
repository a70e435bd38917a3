/**
 * The protobuf wire-format writer for every message we encode (TensorBoard Events, W&B Records),
 * into one growing buffer. Nested messages reserve the longest length prefix (5 bytes), then slide
 * their bytes back once the length is known, so a whole message is encoded with no intermediate
 * buffers. Hot paths that know every size up front (scalars-record.ts, history-encoder.ts) write
 * with the same primitives (protobuf-wire.ts) straight into an exactly sized buffer instead.
 *
 * Strings are encoded with Node's UTF-8 encoder, which turns lone surrogates into U+FFFD: W&B
 * requires valid UTF-8 and TensorBoard's readers decode tags as UTF-8, while a JavaScript string
 * may hold anything.
 */
import { writeInt64Varint, writeVarint32 } from './protobuf-wire.js';

const MAX_LENGTH_PREFIX = 5;
const MAX_VARINT = 10;
/** Below this many UTF-16 units (and so a one-byte length), ASCII is copied without the encoder. */
const SHORT_STRING = 128;

export class ProtoWriter {
  private buf: Buffer;
  /** Over `buf`: DataView's setters skip the argument checks of Buffer's write*LE methods. */
  private view: DataView;
  private pos = 0;
  private readonly starts: number[] = [];

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  get length(): number {
    return this.pos;
  }

  /** The bytes written so far (a view; copy it before reusing the writer). */
  finish(): Buffer {
    if (this.starts.length > 0)
      throw new Error(`ProtoWriter.finish() with ${this.starts.length} open begin()`);
    return this.buf.subarray(0, this.pos);
  }

  reset(): this {
    this.pos = 0;
    this.starts.length = 0;
    return this;
  }

  /** A field key: the field number and its wire type (WIRE_* in protobuf-wire.ts). */
  tag(field: number, wire: number): this {
    return this.uint32(field * 8 + wire);
  }

  /** A non-negative integer below 2^32. */
  uint32(value: number): this {
    this.ensure(MAX_LENGTH_PREFIX);
    this.pos = writeVarint32(this.buf, this.pos, value);
    return this;
  }

  /** An int32 field: negatives are sign-extended to ten bytes, as protobuf requires. */
  int32(value: number): this {
    return value >= 0 ? this.uint32(value) : this.varint64(value);
  }

  /** Any int64/uint64 value: a safe integer or a bigint; negatives take ten bytes (two's complement). */
  varint64(value: number | bigint): this {
    this.ensure(MAX_VARINT);
    this.pos = writeInt64Varint(this.buf, this.pos, value);
    return this;
  }

  double(value: number): this {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
    return this;
  }

  /** A float field: the value rounded to float32. */
  float(value: number): this {
    this.ensure(4);
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
    return this;
  }

  string(value: string): this {
    // Short ASCII strings (tags, keys) are copied in JS: crossing into Node's UTF-8 encoder
    // costs more than the copy. Anything else takes the encoder.
    const length = value.length;
    if (length < SHORT_STRING) {
      this.ensure(1 + length);
      const start = this.pos + 1;
      let i = 0;
      for (; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) break;
        this.buf[start + i] = code;
      }
      if (i === length) {
        this.buf[this.pos] = length;
        this.pos = start + length;
        return this;
      }
    }
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

  /** Starts a length-delimited sub-message or packed field (after its tag); close it with `end()`. */
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
    const at = start - MAX_LENGTH_PREFIX;
    const prefixEnd = writeVarint32(this.buf, at, length);
    if (prefixEnd !== start) this.buf.copyWithin(prefixEnd, start, start + length);
    this.pos = prefixEnd + length;
    return this;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }
}
