/**
 * Number parsing straight from bytes, for the summarizer's fast path. JSON numbers with at most 15
 * significant digits and no exponent are computed as integer / 10^k, which is correctly rounded
 * (both are exact doubles and IEEE division rounds once); longer ones and exponents go through
 * parseFloat on just the number's text. `ok = false` means the bytes are not a JSON number.
 */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const ZERO = 48;
const NINE = 57;
const MINUS = 45;
const DOT = 46;

export interface NumberScan {
  value: number;
  /** Index just past the number. */
  end: number;
  ok: boolean;
}

/** Parses a JSON number at `start`; `out` is reused to avoid allocating per call. */
export function scanNumber(buf: Uint8Array, start: number, limit: number, out: NumberScan): NumberScan {
  let i = start;
  let negative = false;
  if (buf[i] === MINUS) {
    negative = true;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  let byte = buf[i] as number;
  if (byte < ZERO || byte > NINE) return fail(out, i);
  while (i < limit && (byte = buf[i] as number) >= ZERO && byte <= NINE) {
    mantissa = mantissa * 10 + (byte - ZERO);
    if (mantissa !== 0) digits++;
    i++;
  }
  if (i < limit && buf[i] === DOT) {
    i++;
    while (i < limit && (byte = buf[i] as number) >= ZERO && byte <= NINE) {
      mantissa = mantissa * 10 + (byte - ZERO);
      if (mantissa !== 0) digits++;
      fraction++;
      i++;
    }
  }
  const exponent = i < limit && (buf[i] === 101 || buf[i] === 69);
  if (exponent || digits > 15 || fraction > 22) {
    // Exponents and long mantissas (17-digit doubles are common): parseFloat rounds them correctly.
    if (exponent) {
      i++;
      if (buf[i] === 43 || buf[i] === MINUS) i++;
      const digitsStart = i;
      while (i < limit && (byte = buf[i] as number) >= ZERO && byte <= NINE) i++;
      if (i === digitsStart) return fail(out, i);
    }
    out.value = Number.parseFloat(Buffer.prototype.latin1Slice.call(buf, start, i) as string);
    out.end = i;
    out.ok = true;
    return out;
  }
  out.end = i;
  const magnitude = fraction === 0 ? mantissa : mantissa / (POW10[fraction] as number);
  out.value = negative ? -magnitude : magnitude;
  out.ok = true;
  return out;
}

function fail(out: NumberScan, end: number): NumberScan {
  out.value = NaN;
  out.end = end;
  out.ok = false;
  return out;
}

/**
 * A Unix timestamp (`1764334495.123456`): integer seconds plus the fraction, each exact, summed.
 * Within a microsecond of the correctly rounded value, which is all a time span needs, and it
 * keeps 16-digit timestamps off the slower parseFloat path.
 */
export function scanTimestamp(buf: Uint8Array, start: number, limit: number, out: NumberScan): NumberScan {
  let i = start;
  let seconds = 0;
  let byte = buf[i] as number;
  if (byte < ZERO || byte > NINE) return scanNumber(buf, start, limit, out);
  while (i < limit && (byte = buf[i] as number) >= ZERO && byte <= NINE) {
    seconds = seconds * 10 + (byte - ZERO);
    i++;
  }
  let fraction = 0;
  let scale = 1;
  if (i < limit && buf[i] === DOT) {
    i++;
    while (i < limit && (byte = buf[i] as number) >= ZERO && byte <= NINE) {
      if (scale < 1e9) {
        fraction = fraction * 10 + (byte - ZERO);
        scale *= 10;
      }
      i++;
    }
  }
  if (i < limit && (buf[i] === 101 || buf[i] === 69)) return scanNumber(buf, start, limit, out);
  out.value = seconds + fraction / scale;
  out.end = i;
  out.ok = true;
  return out;
}
