/**
 * The records a W&B log holds most of, history rows and summary updates, decoded straight from
 * the bytes: no reader objects, keys interned by their bytes (a key repeats on every row, so it is
 * decoded once), numbers scanned from the bytes of `value_json` without a string in between. A
 * 100,000-row log is mostly these. Any other record, and anything unexpected in these, goes to the
 * full schema-driven decoder, which names what is wrong.
 */
import { NumberScanner } from '../../ndjson/line/scan-number.js';
import { HASH_SEED, hashStep, type NameTable } from '../../ndjson/line/name-table.js';

export interface KeyedItems {
  kind: 'history' | 'summary';
  /** Each item's key as W&B shows it (nested parts joined by dots), and its parts. */
  keys: string[];
  paths: string[][];
  /** The value: a number when `value_json` is a plain JSON number, else its text. */
  values: Array<number | string>;
  /** History only: `step.num`, when the record has one. */
  stepNum: number | undefined;
}

const RECORD_HISTORY = 2;
const RECORD_SUMMARY = 3;
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

/** Bytes that do not parse: the caller hands the record to the full decoder. */
class Unexpected extends Error {}
const UNEXPECTED = new Unexpected('not a plain history or summary record');

const decoder = new TextDecoder('utf-8', { fatal: true });

export class KeyedRecordDecoder {
  private pos = 0;
  private bytes: Buffer = Buffer.alloc(0);
  private readonly numbers = new NumberScanner();

  /** `keys` interns key bytes (any table: only the strings are used). */
  constructor(private readonly keys: NameTable) {}

  /** Decodes a history or summary-update record, or returns undefined for the full decoder to take. */
  decode(payload: Uint8Array): KeyedItems | undefined {
    // The number scanner slices Buffers; a record joined from chunks is a plain Uint8Array.
    this.bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    this.pos = 0;
    try {
      let found: KeyedItems | undefined;
      while (this.pos < this.bytes.length) {
        const key = this.varint();
        const field = Math.floor(key / 8);
        const wire = key & 7;
        if ((field === RECORD_HISTORY || field === RECORD_SUMMARY) && wire === WIRE_LENGTH && found === undefined) {
          found = { kind: field === RECORD_HISTORY ? 'history' : 'summary', keys: [], paths: [], values: [], stepNum: undefined };
          const end = this.length();
          this.body(end, found);
        } else if (isRecordType(field)) {
          return undefined;
        } else {
          this.skip(wire);
        }
      }
      return found;
    } catch (error) {
      if (error instanceof Unexpected) return undefined;
      throw error;
    }
  }

  private body(end: number, into: KeyedItems): void {
    while (this.pos < end) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      if (key % 8 !== WIRE_LENGTH) throw UNEXPECTED;
      const itemEnd = this.length();
      if (field === 1) this.item(itemEnd, into);
      else if (field === 2 && into.kind === 'history') {
        while (this.pos < itemEnd) {
          const stepKey = this.varint();
          if (stepKey === 8) into.stepNum = this.varint();
          else this.skip(stepKey & 7);
        }
      } else throw UNEXPECTED; // summary.remove, or a field this path does not know
    }
    if (this.pos !== end) throw UNEXPECTED;
  }

  private item(end: number, into: KeyedItems): void {
    let plain: string | undefined;
    let nested: string[] | undefined;
    let value: number | string = 'null';
    while (this.pos < end) {
      const key = this.varint();
      if (key % 8 !== WIRE_LENGTH) throw UNEXPECTED;
      const length = this.varint();
      const start = this.pos;
      const stop = start + length;
      if (stop > end) throw UNEXPECTED;
      const field = Math.floor(key / 8);
      if (field === 1) plain = this.name(start, stop);
      else if (field === 2) (nested ??= []).push(this.name(start, stop));
      else if (field === 16) value = this.value(start, stop);
      this.pos = stop;
    }
    const path = nested !== undefined && nested.length > 0 ? nested : [plain ?? ''];
    into.paths.push(path);
    into.keys.push(path.length === 1 ? (path[0] as string) : path.join('.'));
    into.values.push(value);
  }

  private name(start: number, stop: number): string {
    let hash = HASH_SEED;
    for (let i = start; i < stop; i++) hash = hashStep(hash, this.bytes[i] as number);
    return this.keys.name(this.keys.idOfBytes(this.bytes, start, stop, hash));
  }

  private value(start: number, stop: number): number | string {
    if (stop > start && this.numbers.scan(this.bytes, start, stop) && this.numbers.end === stop) return this.numbers.value;
    try {
      return decoder.decode(this.bytes.subarray(start, stop));
    } catch (error) {
      // Not UTF-8: the full decoder reports it.
      if (error instanceof TypeError) throw UNEXPECTED;
      throw error;
    }
  }

  private varint(): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.bytes[this.pos++];
      if (byte === undefined) throw UNEXPECTED;
      result += (byte & 0x7f) * shift;
      if (byte < 0x80) return result;
      shift *= 128;
    }
    // Longer than 56 bits: no length, key or step here is; the full decoder takes it.
    throw UNEXPECTED;
  }

  private length(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.bytes.length) throw UNEXPECTED;
    return end;
  }

  private skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_FIXED64) this.pos += 8;
    else if (wire === WIRE_FIXED32) this.pos += 4;
    else if (wire === WIRE_LENGTH) this.pos = this.length();
    else throw UNEXPECTED;
    if (this.pos > this.bytes.length) throw UNEXPECTED;
  }
}

/** Members of Record's `record_type` oneof; the rest (num 1, control 16, uuid 19, _info 200) say nothing of the body. */
function isRecordType(field: number): boolean {
  return field >= 2 && field <= 100 && field !== 16 && field !== 19;
}
