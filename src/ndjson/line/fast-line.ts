/**
 * The fast path: a schema v1 scalar line exactly as our writers produce it
 * (`{"v":1,"ts":…,"run_id":"…","step":…,"name":"…","value":…,"tags":{"phase":"…"[,…]}}`),
 * matched byte by byte against that fixed key order. Any deviation (other key order, whitespace,
 * escapes in strings, a system snapshot, a plain row) returns false and the reader falls back to
 * JSON.parse, which also produces the error message when the line is malformed. A line is only
 * reported to the visitor once all of it has been checked, so a false return never leaves a
 * half-counted line behind.
 */
import { LINE_HEAD } from './encode-line.js';
import type { MetricVisitor, PhaseId } from './metric-visitor.js';
import { HASH_SEED, hashStep, type NameTable } from './name-table.js';
import { NumberScanner } from './scan-number.js';

/**
 * A fixed byte string compared four bytes at a time through a DataView (about twice as fast as a
 * byte loop in V8), then byte by byte for the last 0–3.
 */
class Literal {
  readonly bytes: Uint8Array;
  readonly length: number;
  private readonly words: Int32Array;
  private readonly tail: number;

  constructor(text: string) {
    const bytes = Buffer.from(text, 'latin1');
    this.bytes = new Uint8Array(bytes);
    this.length = bytes.length;
    this.words = new Int32Array(bytes.length >> 2);
    for (let i = 0; i < this.words.length; i++) this.words[i] = bytes.readInt32LE(i * 4);
    this.tail = this.words.length * 4;
  }

  /** Whether `buf[pos, pos + length)` holds these bytes, within `end`; `view` spans `buf`. */
  at(view: DataView, buf: Buffer, pos: number, end: number): boolean {
    if (pos + this.length > end) return false;
    const words = this.words;
    for (let i = 0; i < words.length; i++) if (view.getInt32(pos + i * 4, true) !== words[i]) return false;
    for (let i = this.tail; i < this.length; i++) if (buf[pos + i] !== this.bytes[i]) return false;
    return true;
  }
}

const HEAD = new Literal(LINE_HEAD);
const RUN_ID = new Literal(',"run_id":"');
const STEP = new Literal('","step":');
const NAME = new Literal(',"name":"');
const VALUE = new Literal('","value":');
const TAGS = new Literal(',"tags":{"phase":"');
const PHASE_KEY = new Literal('phase');
const TRAIN = new Literal('train"');
const EVAL = new Literal('eval"');
const SYSTEM = new Literal('system"');
const NAN = new Literal('"NaN"');
const INFINITY = new Literal('"Infinity"');
const MINUS_INFINITY = new Literal('"-Infinity"');
const TRUE = new Literal('true');
const FALSE = new Literal('false');
const NULL = new Literal('null');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Steps with at most this many digits are safe integers as doubles. */
const SAFE_DIGITS = 15;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

export class FastLineParser {
  private readonly number = new NumberScanner();
  /** Scratch results of the helpers below (fields, not allocations). */
  private pos = 0;
  private hash = 0;
  private step: number | bigint = 0;
  private view: DataView = new DataView(new ArrayBuffer(0));
  private viewOf: Buffer | undefined;

  constructor(
    private readonly names: NameTable,
    private readonly runs: NameTable,
    private readonly visitor: MetricVisitor,
  ) {}

  /** Handles `buf[start, end)` (one line without its newline) if it is a canonical scalar line. */
  parse(buf: Buffer, start: number, end: number): boolean {
    if (buf !== this.viewOf) {
      this.viewOf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    }
    const view = this.view;
    let p = start;
    if (!HEAD.at(view, buf, p, end)) return false;
    p += HEAD.length;
    if (!this.number.scan(buf, p, end)) return false;
    const ts = this.number.value;
    p = this.number.end;

    if (!RUN_ID.at(view, buf, p, end)) return false;
    p += RUN_ID.length;
    const runStart = p;
    if (!this.plainString(buf, p, end)) return false;
    const runEnd = this.pos;
    const runHash = this.hash;
    p = runEnd;

    if (!STEP.at(view, buf, p, end)) return false;
    p += STEP.length;
    if (!this.integer(buf, p, end)) return false;
    const step = this.step;
    p = this.pos;

    if (!NAME.at(view, buf, p, end)) return false;
    p += NAME.length;
    const nameStart = p;
    if (!this.plainString(buf, p, end)) return false;
    const nameEnd = this.pos;
    const nameHash = this.hash;
    p = nameEnd;

    if (!VALUE.at(view, buf, p, end)) return false;
    p += VALUE.length;
    let value: number;
    if (buf[p] === QUOTE) {
      if (NAN.at(view, buf, p, end)) {
        value = NaN;
        p += NAN.length;
      } else if (INFINITY.at(view, buf, p, end)) {
        value = Infinity;
        p += INFINITY.length;
      } else if (MINUS_INFINITY.at(view, buf, p, end)) {
        value = -Infinity;
        p += MINUS_INFINITY.length;
      } else {
        return false;
      }
    } else {
      if (!this.number.scan(buf, p, end)) return false;
      value = this.number.value;
      p = this.number.end;
    }

    if (!TAGS.at(view, buf, p, end)) return false;
    p += TAGS.length;
    let phase: PhaseId;
    if (TRAIN.at(view, buf, p, end)) {
      phase = 0;
      p += TRAIN.length;
    } else if (EVAL.at(view, buf, p, end)) {
      phase = 1;
      p += EVAL.length;
    } else if (SYSTEM.at(view, buf, p, end)) {
      phase = 2;
      p += SYSTEM.length;
    } else {
      return false;
    }
    if (buf[p] === 0x2c && !this.extraTags(buf, p + 1, end)) return false;
    if (buf[p] === 0x2c) p = this.pos;
    if (p + 2 !== end || buf[p] !== 0x7d || buf[p + 1] !== 0x7d) return false;

    this.visitor.scalar(
      phase,
      this.names.idOfBytes(buf, nameStart, nameEnd, nameHash),
      this.runs.idOfBytes(buf, runStart, runEnd, runHash),
      step,
      ts,
      value,
    );
    return true;
  }

  /** A string body without escapes or control bytes; sets `pos` at the closing quote and `hash`. */
  private plainString(buf: Buffer, p: number, end: number): boolean {
    let hash = HASH_SEED;
    for (; p < end; p++) {
      const c = buf[p] as number;
      if (c === QUOTE) {
        this.pos = p;
        this.hash = hash;
        return true;
      }
      if (c === BACKSLASH || c < 0x20) return false;
      hash = hashStep(hash, c);
    }
    return false;
  }

  /** An int64 in JSON integer syntax; sets `step` (bigint only beyond 2^53) and `pos`. */
  private integer(buf: Buffer, p: number, end: number): boolean {
    const start = p;
    const negative = buf[p] === 0x2d;
    if (negative) p++;
    const digitsStart = p;
    let magnitude = 0;
    let c = 0;
    while (p < end && (c = buf[p] as number) >= 0x30 && c <= 0x39) {
      magnitude = magnitude * 10 + (c - 0x30);
      p++;
    }
    const digits = p - digitsStart;
    if (digits === 0 || (digits > 1 && buf[digitsStart] === 0x30)) return false;
    this.pos = p;
    if (digits <= SAFE_DIGITS) {
      this.step = negative ? -magnitude : magnitude;
      return true;
    }
    const big = BigInt(buf.toString('latin1', start, p));
    if (big > INT64_MAX || big < INT64_MIN) return false;
    this.step =
      big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    return true;
  }

  /**
   * Extra tags after `phase` (`"rank":0,"world_size":8}`): scalar values only, validated as JSON.
   * Sets `pos` just past the tags object's closing brace.
   */
  private extraTags(buf: Buffer, p: number, end: number): boolean {
    for (;;) {
      if (buf[p] !== QUOTE) return false;
      const keyStart = p + 1;
      if (!this.jsonString(buf, keyStart, end)) return false;
      // A second "phase" would win in JSON.parse: leave that oddity to the slow path.
      if (this.pos - keyStart === PHASE_KEY.length && PHASE_KEY.at(this.view, buf, keyStart, end))
        return false;
      p = this.pos + 1;
      if (buf[p] !== 0x3a) return false;
      p++;
      const c = buf[p];
      if (c === QUOTE) {
        if (!this.jsonString(buf, p + 1, end)) return false;
        p = this.pos + 1;
      } else if (TRUE.at(this.view, buf, p, end)) {
        p += TRUE.length;
      } else if (FALSE.at(this.view, buf, p, end)) {
        p += FALSE.length;
      } else if (NULL.at(this.view, buf, p, end)) {
        p += NULL.length;
      } else if (this.number.scan(buf, p, end)) {
        p = this.number.end;
      } else {
        return false;
      }
      if (p >= end) return false;
      if (buf[p] === 0x7d) {
        this.pos = p;
        return true;
      }
      if (buf[p] !== 0x2c) return false;
      p++;
    }
  }

  /** A JSON string body with escapes allowed (validated, not decoded); sets `pos` at the closing quote. */
  private jsonString(buf: Buffer, p: number, end: number): boolean {
    for (; p < end; p++) {
      const c = buf[p] as number;
      if (c === QUOTE) {
        this.pos = p;
        return true;
      }
      if (c < 0x20) return false;
      if (c === BACKSLASH) {
        const e = buf[++p];
        if (e === 0x75) {
          for (let i = 0; i < 4; i++) {
            const h = buf[++p] as number;
            const hex = (h >= 0x30 && h <= 0x39) || ((h | 0x20) >= 0x61 && (h | 0x20) <= 0x66);
            if (p >= end || !hex) return false;
          }
        } else if (
          e !== QUOTE &&
          e !== BACKSLASH &&
          e !== 0x2f &&
          e !== 0x62 &&
          e !== 0x66 &&
          e !== 0x6e &&
          e !== 0x72 &&
          e !== 0x74
        ) {
          return false;
        }
      }
    }
    return false;
  }
}
