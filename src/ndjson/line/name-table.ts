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

export class NameTable {
  /** id → name. */
  readonly names: string[] = [];
  private readonly byString = new Map<string, number>();
  /** Open-addressed byte index: slot → id (−1 empty), with the hash and bytes of that slot. */
  private slotIds = new Int32Array(INITIAL_SLOTS).fill(-1);
  private slotHashes = new Int32Array(INITIAL_SLOTS);
  private slotBytes: Uint8Array[] = new Array<Uint8Array>(INITIAL_SLOTS);
  private used = 0;

  get size(): number {
    return this.names.length;
  }

  name(id: number): string {
    return this.names[id] as string;
  }

  idOfString(name: string): number {
    let id = this.byString.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.byString.set(name, id);
    }
    return id;
  }

  /** Id of the UTF-8 bytes `buf[start, end)` (valid UTF-8, no escapes); `hash` from `hashStep`. */
  idOfBytes(buf: Uint8Array, start: number, end: number, hash: number): number {
    const mask = this.slotIds.length - 1;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.slotIds[slot] as number;
      if (id === -1) break;
      if (this.slotHashes[slot] !== hash) continue;
      const bytes = this.slotBytes[slot] as Uint8Array;
      if (bytes.length !== length) continue;
      let same = true;
      for (let i = 0; i < length; i++) {
        if (bytes[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return id;
    }
    const id = this.idOfString(Buffer.from(buf.buffer, buf.byteOffset + start, length).toString('utf8'));
    // A copy: `buf` is the reader's reused chunk buffer.
    this.insert(hash, new Uint8Array(buf.subarray(start, end)), id);
    return id;
  }

  private insert(hash: number, bytes: Uint8Array, id: number): void {
    if ((this.used + 1) * 2 > this.slotIds.length) this.grow();
    const mask = this.slotIds.length - 1;
    let slot = hash & mask;
    while (this.slotIds[slot] !== -1) slot = (slot + 1) & mask;
    this.slotIds[slot] = id;
    this.slotHashes[slot] = hash;
    this.slotBytes[slot] = bytes;
    this.used++;
  }

  private grow(): void {
    const ids = this.slotIds;
    const hashes = this.slotHashes;
    const bytes = this.slotBytes;
    this.slotIds = new Int32Array(ids.length * 2).fill(-1);
    this.slotHashes = new Int32Array(ids.length * 2);
    this.slotBytes = new Array<Uint8Array>(ids.length * 2);
    this.used = 0;
    for (let slot = 0; slot < ids.length; slot++) {
      if (ids[slot] !== -1)
        this.insert(hashes[slot] as number, bytes[slot] as Uint8Array, ids[slot] as number);
    }
  }
}
