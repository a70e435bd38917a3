/**
 * JSON numbers straight from bytes. Most metric values and timestamps have at most 15–16
 * significant digits and a small exponent; for those, one exact integer divided or multiplied by an
 * exact power of ten is correctly rounded (Clinger's fast path), so the result equals JSON.parse's
 * without allocating a string. Longer mantissas take `Number()` on a latin1 slice.
 */

/** Exact powers of ten as doubles (10^22 is the largest one a double holds exactly). */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
const MAX_EXACT = 2 ** 53;

const ZERO = 0x30;
const NINE = 0x39;

export class NumberScanner {
  /** The number scanned by the last successful `scan`. */
  value = 0;
  /** Index just past the number. */
  end = 0;

  /**
   * Scans a JSON number starting at `pos` (strict grammar: no leading zeros, no `+`, digits on
   * both sides of `.`). Returns false if the bytes there are not one.
   */
  scan(buf: Buffer, pos: number, limit: number): boolean {
    const start = pos;
    let negative = false;
    if (buf[pos] === 0x2d) {
      negative = true;
      pos++;
    }
    let c = buf[pos] as number;
    if (pos >= limit || c < ZERO || c > NINE) return false;
    // Digits gather in a small integer (cheap integer adds) and move into the double mantissa
    // eight at a time, which shortens the floating-point dependency chain.
    let mantissa = 0;
    let group = 0;
    let groupDigits = 0;
    let exp10 = 0;
    if (c === ZERO) {
      pos++;
    } else {
      while (pos < limit && (c = (buf[pos] as number) - ZERO) >>> 0 < 10) {
        group = group * 10 + c;
        pos++;
        if (++groupDigits === 8) {
          mantissa = mantissa * 1e8 + group;
          group = 0;
          groupDigits = 0;
        }
      }
    }
    if (pos < limit && buf[pos] === 0x2e) {
      pos++;
      const fracStart = pos;
      while (pos < limit && (c = (buf[pos] as number) - ZERO) >>> 0 < 10) {
        group = group * 10 + c;
        pos++;
        if (++groupDigits === 8) {
          mantissa = mantissa * 1e8 + group;
          group = 0;
          groupDigits = 0;
        }
      }
      if (pos === fracStart) return false;
      exp10 = fracStart - pos;
    }
    mantissa = mantissa * (POW10[groupDigits] as number) + group;
    c = buf[pos] as number;
    if (pos < limit && (c === 0x65 || c === 0x45)) {
      pos++;
      let expNegative = false;
      c = buf[pos] as number;
      if (c === 0x2d || c === 0x2b) {
        expNegative = c === 0x2d;
        pos++;
      }
      const expStart = pos;
      let exp = 0;
      while (pos < limit && (c = buf[pos] as number) >= ZERO && c <= NINE) {
        if (exp < 100000) exp = exp * 10 + (c - ZERO);
        pos++;
      }
      if (pos === expStart) return false;
      exp10 += expNegative ? -exp : exp;
    }
    this.end = pos;
    // The accumulation above is exact while the mantissa stays below 2^53 (it only grows).
    if (mantissa < MAX_EXACT && exp10 >= -22 && exp10 <= 22) {
      const magnitude =
        exp10 < 0 ? mantissa / (POW10[-exp10] as number) : mantissa * (POW10[exp10] as number);
      this.value = negative ? -magnitude : magnitude;
      return true;
    }
    this.value = Number(buf.toString('latin1', start, pos));
    return true;
  }
}
