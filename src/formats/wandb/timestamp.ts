/**
 * `google.protobuf.Timestamp` in its canonical JSON form (RFC 3339, UTC, `Z`), with 0, 3, 6 or 9
 * fractional digits as protobuf's own formatters choose, so decoded records print like W&B's tools.
 */

export interface Timestamp {
  seconds: number | bigint;
  nanos: number;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

export function formatTimestamp({ seconds, nanos }: Timestamp): string {
  const date = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (nanos === 0) return `${date}Z`;
  const digits = String(nanos).padStart(9, '0');
  const fraction = nanos % 1e6 === 0 ? digits.slice(0, 3) : nanos % 1e3 === 0 ? digits.slice(0, 6) : digits;
  return `${date}.${fraction}Z`;
}

export function parseTimestamp(text: string): Timestamp {
  const match = RFC3339.exec(text);
  if (match === null) throw new TypeError(`timestamp ${JSON.stringify(text)} is not RFC 3339 UTC (…Z)`);
  const [, year, month, day, hour, minute, second, fraction] = match;
  const ms = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  );
  return { seconds: ms / 1000, nanos: Number((fraction ?? '').padEnd(9, '0')) };
}

/** Unix seconds (fractional) → Timestamp, rounded to the microsecond (what a double holds reliably). */
export function timestampFromUnix(unixSeconds: number): Timestamp {
  let seconds = Math.floor(unixSeconds);
  let micros = Math.round((unixSeconds - seconds) * 1e6);
  if (micros >= 1e6) {
    seconds += 1;
    micros -= 1e6;
  }
  return { seconds, nanos: micros * 1000 };
}

export function formatUnixTimestamp(unixSeconds: number): string {
  return formatTimestamp(timestampFromUnix(unixSeconds));
}
