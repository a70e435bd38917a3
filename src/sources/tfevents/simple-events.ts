/**
 * The Event most event files are made of, decoded straight from its bytes: wall time, step, and a
 * summary whose values are only `tag` and `simple_value` (tensorboardX and PyTorch's add_scalar).
 * Tags are interned by their bytes (a tag repeats on every step), so such an Event costs no
 * objects. Anything else, or anything unexpected, is left to the full decoder.
 */
import { HASH_SEED, hashStep, type NameTable } from '../../ndjson/line/name-table.js';

export class SimpleEventDecoder {
  wallTime = 0;
  /** The step: a number, or a bigint beyond 2^53. */
  step: number | bigint = 0;
  /** Tag ids (in `tags`) and values of the summary, `count` of them. */
  readonly tagIds: number[] = [];
  readonly values: number[] = [];
  count = 0;
  private view: DataView | undefined;

  constructor(readonly tags: NameTable) {}

  /** True when the Event was simple and is now in the fields above. */
  decode(bytes: Buffer): boolean {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.wallTime = 0;
    this.step = 0;
    this.count = 0;
    let pos = 0;
    let summary = false;
    while (pos < bytes.length) {
      const key = bytes[pos++] as number;
      if (key === 0x09 && pos + 8 <= bytes.length) {
        this.wallTime = this.view.getFloat64(pos, true);
        pos += 8;
      } else if (key === 0x10) {
        let low = 0;
        let shift = 1;
        let i = 0;
        for (; i < 7; i++) {
          const byte = bytes[pos++];
          if (byte === undefined) return false;
          low += (byte & 0x7f) * shift;
          if (byte < 0x80) break;
          shift *= 128;
        }
        // Seven bytes hold 49 bits; a longer step (or a negative one) is the full decoder's.
        if (i === 7) return false;
        this.step = low;
      } else if (key === 0x2a && !summary) {
        summary = true;
        const length = bytes[pos++] as number;
        if (length === undefined || length >= 0x80 || pos + length > bytes.length) return false;
        if (!this.summary(bytes, pos, pos + length)) return false;
        pos += length;
      } else {
        return false;
      }
    }
    return summary;
  }

  /** Summary { repeated Value value = 1 }, each Value { string tag = 1; float simple_value = 2 }. */
  private summary(bytes: Buffer, start: number, end: number): boolean {
    let pos = start;
    while (pos < end) {
      if (bytes[pos++] !== 0x0a) return false;
      const length = bytes[pos++] as number;
      if (length >= 0x80) return false;
      const valueEnd = pos + length;
      if (valueEnd > end || bytes[pos++] !== 0x0a) return false;
      const tagLength = bytes[pos++] as number;
      if (tagLength >= 0x80 || pos + tagLength + 5 !== valueEnd || bytes[pos + tagLength] !== 0x15)
        return false;
      let hash = HASH_SEED;
      for (let i = pos; i < pos + tagLength; i++) hash = hashStep(hash, bytes[i] as number);
      this.tagIds[this.count] = this.tags.idOfBytes(bytes, pos, pos + tagLength, hash);
      this.values[this.count] = (this.view as DataView).getFloat32(pos + tagLength + 1, true);
      this.count++;
      pos = valueEnd;
    }
    return true;
  }
}
