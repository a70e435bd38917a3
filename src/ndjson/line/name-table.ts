/**
 * Interns names (metric names, run ids) to dense integer ids. The fast path looks names up by their
 * raw UTF-8 bytes and a hash computed while scanning the string, so a line costs no string
 * allocation once its name has been seen; the slow path (JSON.parse) looks names up as strings.
 * Both lead to the same id, because a valid UTF-8 string without escapes has exactly one encoding.
 */

/** FNV-1a over bytes, the same step the scanner applies while it looks for the closing quote. */
export const HASH_SEED = 0x811c9dc5 | 0;
export function hashStep(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 16777619);
}

const INITIAL_SLOTS = 256;
const INITIAL_BYTES = 4096;

/** A lone UTF-16 surrogate: such a string has no UTF-8 bytes of its own (they become U+FFFD). */
const LONE_SURROGATE = /\p{Surrogate}/u;

export class NameTable {
  /** id → name (empty in a table that keeps no strings: use name()). */
  readonly names: string[] = [];
  private readonly byString = new Map<string, number>();
  /** Ids given: names.length, unless the table keeps no strings. */
  private count = 0;
  /**
   * A table that keeps no strings (`keepStrings` false) holds each name as its UTF-8 bytes only,
   * and makes its string when name() asks: a run index build asks once a series, and a million
   * names held as strings and a Map of them took 80 MB more. Every name is then found through the
   * bytes, by idOfString too, so `hash` must be hashStep's (the scanner's); a string with a lone
   * surrogate, which has no bytes of its own, is kept as a string.
   */
  private readonly keepStrings: boolean;
  /** Names with a lone surrogate in a table that keeps no strings: id by name, and name by id. */
  private readonly odd = new Map<string, number>();
  private readonly oddNames = new Map<number, string>();
  /** Open-addressed byte index: slot → id (−1 empty), with the hash of that slot. */
  private slotIds = new Int32Array(INITIAL_SLOTS).fill(-1);
  private slotHashes = new Int32Array(INITIAL_SLOTS);
  private used = 0;
  /**
   * The UTF-8 bytes of every name found by bytes, one after the other in one buffer, and where
   * each id's bytes start and how many there are. A Uint8Array per name took about 240 bytes of
   * heap each (a million names: 241 MB, bench/RESULTS.md); these take the bytes and 12 more.
   */
  private bytes = new Uint8Array(INITIAL_BYTES);
  private bytesUsed = 0;
  private byteStarts = new Float64Array(INITIAL_SLOTS);
  private byteLengths = new Int32Array(INITIAL_SLOTS);

  constructor(options: { keepStrings?: boolean } = {}) {
    this.keepStrings = options.keepStrings ?? true;
  }

  get size(): number {
    return this.count;
  }

  name(id: number): string {
    if (this.keepStrings) return this.names[id] as string;
    const start = this.byteStarts[id] as number;
    return (
      this.oddNames.get(id) ?? Buffer.from(this.bytes.buffer, start, this.byteLengths[id]).toString('utf8')
    );
  }

  idOfString(name: string): number {
    if (!this.keepStrings) return this.idOfStringBytes(name);
    let id = this.byString.get(name);
    if (id === undefined) {
      id = this.count++;
      this.names.push(name);
      this.byString.set(name, id);
    }
    return id;
  }

  /** idOfString in a table that keeps no strings: the name is found by its bytes. */
  private idOfStringBytes(name: string): number {
    if (LONE_SURROGATE.test(name)) {
      let id = this.odd.get(name);
      if (id === undefined) {
        id = this.count++;
        this.odd.set(name, id);
        this.oddNames.set(id, name);
      }
      return id;
    }
    const bytes = Buffer.from(name, 'utf8');
    let hash = HASH_SEED;
    for (let i = 0; i < bytes.length; i++) hash = hashStep(hash, bytes[i] as number);
    return this.idOfBytes(bytes, 0, bytes.length, hash);
  }

  /** Id of the UTF-8 bytes `buf[start, end)` (valid UTF-8, no escapes); `hash` from `hashStep`. */
  idOfBytes(buf: Uint8Array, start: number, end: number, hash: number): number {
    const mask = this.slotIds.length - 1;
    const length = end - start;
    const bytes = this.bytes;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.slotIds[slot] as number;
      if (id === -1) break;
      if (this.slotHashes[slot] !== hash || this.byteLengths[id] !== length) continue;
      const at = this.byteStarts[id] as number;
      let same = true;
      for (let i = 0; i < length; i++) {
        if (bytes[at + i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return id;
    }
    const id = this.keepStrings
      ? this.idOfString(Buffer.from(buf.buffer, buf.byteOffset + start, length).toString('utf8'))
      : this.count++;
    // A copy: `buf` is the reader's reused chunk buffer.
    this.keepBytes(id, buf, start, end);
    this.insert(hash, id);
    return id;
  }

  private keepBytes(id: number, buf: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (this.bytesUsed + length > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.bytesUsed + length));
      bigger.set(this.bytes.subarray(0, this.bytesUsed));
      this.bytes = bigger;
    }
    if (id >= this.byteStarts.length) {
      const size = Math.max(this.byteStarts.length * 2, id + 1);
      const starts = new Float64Array(size);
      starts.set(this.byteStarts);
      this.byteStarts = starts;
      const lengths = new Int32Array(size);
      lengths.set(this.byteLengths);
      this.byteLengths = lengths;
    }
    this.bytes.set(buf.subarray(start, end), this.bytesUsed);
    this.byteStarts[id] = this.bytesUsed;
    this.byteLengths[id] = length;
    this.bytesUsed += length;
  }

  private insert(hash: number, id: number): void {
    if ((this.used + 1) * 2 > this.slotIds.length) this.grow();
    const mask = this.slotIds.length - 1;
    let slot = hash & mask;
    while (this.slotIds[slot] !== -1) slot = (slot + 1) & mask;
    this.slotIds[slot] = id;
    this.slotHashes[slot] = hash;
    this.used++;
  }

  private grow(): void {
    const ids = this.slotIds;
    const hashes = this.slotHashes;
    this.slotIds = new Int32Array(ids.length * 2).fill(-1);
    this.slotHashes = new Int32Array(ids.length * 2);
    this.used = 0;
    for (let slot = 0; slot < ids.length; slot++) {
      if (ids[slot] !== -1) this.insert(hashes[slot] as number, ids[slot] as number);
    }
  }
}
