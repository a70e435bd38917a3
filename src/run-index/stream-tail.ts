/**
 * The last TAIL_BYTES bytes a writer appended to its stream, kept as it appends them, so each block
 * it cuts gets its tail hash (index-codec.ts) from memory instead of opening and reading the stream
 * at every flush. It answers only for the end it has seen the bytes up to; anything else (bytes it
 * was not shown) is read from the stream as before.
 */
import { crc32 } from './crc32.js';
import { TAIL_BYTES } from './index-codec.js';

export class StreamTail {
  private readonly bytes = Buffer.alloc(TAIL_BYTES);
  /** Bytes held, at the end of `bytes`. */
  private held = 0;
  /** The stream offset the held bytes end at. */
  private end = 0;

  /** `chunk` was appended at stream offset `offset`. */
  appended(chunk: Uint8Array, offset: number): void {
    if (offset !== this.end) this.held = 0;
    const n = chunk.byteLength;
    if (n >= TAIL_BYTES) {
      this.bytes.set(chunk.subarray(n - TAIL_BYTES));
      this.held = TAIL_BYTES;
    } else {
      const keep = Math.min(this.held, TAIL_BYTES - n);
      this.bytes.copyWithin(TAIL_BYTES - n - keep, TAIL_BYTES - keep);
      this.bytes.set(chunk, TAIL_BYTES - n);
      this.held = keep + n;
    }
    this.end = offset + n;
  }

  /**
   * CRC-32 of the stream's TAIL_BYTES before `end` (fewer at its start), as `tailHash` reads it,
   * or undefined when the bytes held do not end at `end` or are too few.
   */
  hashAt(end: number): number | undefined {
    const want = Math.min(TAIL_BYTES, end);
    if (end !== this.end || this.held < want) return undefined;
    return crc32(this.bytes.subarray(TAIL_BYTES - want));
  }
}
