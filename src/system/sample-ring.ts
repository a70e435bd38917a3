/**
 * How samples cross from the sampler's worker thread to the training thread without a message
 * per sample: a ring of slots in one SharedArrayBuffer. A message (even on a port nobody listens
 * to) wakes the training thread's event loop, and decoding a 300-key snapshot costs it tens of
 * µs more; here the worker writes each sample into the next slot and the training thread copies
 * it out from the timer it runs anyway. What a slot holds:
 * - the sample's Unix seconds and its flat values, as doubles, in the order of a key list
 *   (a "layout") the worker posts once, as a message, whenever the keys change;
 * - the typed part (host sample, GPU value arrays) as v8-serialized bytes, which the training
 *   thread copies but decodes only when something asks for it (a metrics scrape).
 *
 * Bound and policy: `slots` samples. A reader that falls more than that behind (its thread
 * blocked for `slots` intervals) loses the oldest ones, and counts them (`lost`); the writer never
 * waits. Each slot is stamped with its sample's number (seqlock): 0 while it is being written, so
 * a reader that copied a slot the writer was overwriting sees the stamp change and counts the
 * sample as lost instead of returning torn values.
 */

/** Int32 words before the slots' metadata: [0] samples published, [1] ticks the worker skipped. */
const HEADER_WORDS = 2;
/** Int32 words of metadata per slot: stamp, value count, byte count, layout version. */
const META_WORDS = 4;
const STAMP = 0;
const COUNT = 1;
const BYTES = 2;
const LAYOUT = 3;

export interface RingShape {
  readonly slots: number;
  /** Flat values one slot holds. */
  readonly valueCapacity: number;
  /** Bytes of the serialized typed part one slot holds. */
  readonly byteCapacity: number;
}

/** The default ring: room for the host keys and 16 GPUs' keys and typed parts, 8 samples deep. */
export const DEFAULT_RING_SHAPE: RingShape = { slots: 8, valueCapacity: 1024, byteCapacity: 16384 };

export interface RingBuffer extends RingShape {
  readonly buffer: SharedArrayBuffer;
}

/** One sample as the reader copied it out of its slot. */
export interface RingSample {
  readonly ts: number;
  readonly layout: number;
  readonly values: Float64Array;
  readonly typed: Uint8Array;
}

class RingView {
  readonly shape: RingBuffer;
  protected readonly words: Int32Array;
  protected readonly doubles: Float64Array;
  protected readonly bytes: Uint8Array;

  constructor(ring: RingBuffer) {
    this.shape = ring;
    const { buffer, slots, valueCapacity, byteCapacity } = ring;
    const metaBytes = align8((HEADER_WORDS + slots * META_WORDS) * 4);
    this.words = new Int32Array(buffer, 0, HEADER_WORDS + slots * META_WORDS);
    // Per slot: the timestamp, then the values.
    this.doubles = new Float64Array(buffer, metaBytes, slots * (1 + valueCapacity));
    this.bytes = new Uint8Array(buffer, metaBytes + slots * (1 + valueCapacity) * 8, slots * byteCapacity);
  }

  protected meta(slot: number, word: number): number {
    return HEADER_WORDS + slot * META_WORDS + word;
  }
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

export function allocateRing(shape: RingShape = DEFAULT_RING_SHAPE): RingBuffer {
  const metaBytes = align8((HEADER_WORDS + shape.slots * META_WORDS) * 4);
  const size = metaBytes + shape.slots * ((1 + shape.valueCapacity) * 8 + shape.byteCapacity);
  return { ...shape, buffer: new SharedArrayBuffer(size) };
}

/** The worker's side. */
export class RingWriter extends RingView {
  private published = 0;

  /** Whether a sample of this size fits a slot (otherwise the worker allocates a larger ring). */
  fits(values: number, bytes: number): boolean {
    return values <= this.shape.valueCapacity && bytes <= this.shape.byteCapacity;
  }

  /** Ticks skipped so far, for the reader's count. */
  setSkipped(skipped: number): void {
    Atomics.store(this.words, 1, skipped);
  }

  /** Writes one sample into the next slot; the caller checked fits(). */
  write(ts: number, layout: number, values: ArrayLike<number>, typed: Uint8Array): void {
    const seq = this.published + 1;
    const slot = seq % this.shape.slots;
    Atomics.store(this.words, this.meta(slot, STAMP), 0);
    const base = slot * (1 + this.shape.valueCapacity);
    this.doubles[base] = ts;
    for (let i = 0; i < values.length; i++) this.doubles[base + 1 + i] = values[i];
    this.bytes.set(typed, slot * this.shape.byteCapacity);
    this.words[this.meta(slot, COUNT)] = values.length;
    this.words[this.meta(slot, BYTES)] = typed.length;
    this.words[this.meta(slot, LAYOUT)] = layout;
    Atomics.store(this.words, this.meta(slot, STAMP), seq);
    Atomics.store(this.words, 0, seq);
    this.published = seq;
  }
}

/** The training thread's side. */
export class RingReader extends RingView {
  private read = 0;
  /** Samples overwritten before this side copied them. */
  lost = 0;

  /** Ticks the worker skipped so far. */
  get skipped(): number {
    return Atomics.load(this.words, 1);
  }

  /** Whether a sample is waiting: one atomic load, cheap enough for any hot path. */
  get pending(): boolean {
    return Atomics.load(this.words, 0) !== this.read;
  }

  /**
   * Copies out the oldest sample not read yet, or undefined when there is none. `known` says
   * whether this side has the sample's layout yet; when it has not (its message is still on the
   * way) the sample stays in the ring for the next call.
   */
  next(known: (layout: number) => boolean): RingSample | undefined {
    const published = Atomics.load(this.words, 0);
    const { slots, valueCapacity, byteCapacity } = this.shape;
    if (published - this.read > slots) {
      this.lost += published - this.read - slots;
      this.read = published - slots;
    }
    while (this.read < published) {
      const seq = this.read + 1;
      const slot = seq % slots;
      if (Atomics.load(this.words, this.meta(slot, STAMP)) !== seq) {
        this.read = seq;
        this.lost++;
        continue;
      }
      const layout = this.words[this.meta(slot, LAYOUT)];
      if (!known(layout)) return undefined;
      const count = this.words[this.meta(slot, COUNT)];
      const length = this.words[this.meta(slot, BYTES)];
      const base = slot * (1 + valueCapacity);
      const ts = this.doubles[base];
      const values = this.doubles.slice(base + 1, base + 1 + count);
      const typed = this.bytes.slice(slot * byteCapacity, slot * byteCapacity + length);
      this.read = seq;
      // Overwritten while it was copied: the copy may be torn.
      if (Atomics.load(this.words, this.meta(slot, STAMP)) !== seq) {
        this.lost++;
        continue;
      }
      return { ts, layout, values, typed };
    }
    return undefined;
  }
}
