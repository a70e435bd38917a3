/**
 * google.protobuf.Timestamp in canonical JSON: expected strings written by hand from protobuf's
 * rule (0, 3, 6 or 9 fractional digits, the fewest that hold the nanos exactly).
 */
import { describe, expect, it } from 'vitest';
import {
  formatTimestamp,
  formatUnixTimestamp,
  parseTimestamp,
  timestampFromUnix,
} from '../../../src/formats/wandb/timestamp.js';

describe('W&B timestamps', () => {
  it.each([
    [{ seconds: 1_700_000_000, nanos: 0 }, '2023-11-14T22:13:20Z'],
    [{ seconds: 1_700_000_000, nanos: 500_000_000 }, '2023-11-14T22:13:20.500Z'],
    [{ seconds: 1_700_000_000, nanos: 1_000_000 }, '2023-11-14T22:13:20.001Z'],
    [{ seconds: 1_700_000_000, nanos: 123_456_000 }, '2023-11-14T22:13:20.123456Z'],
    [{ seconds: 1_700_000_000, nanos: 1_000 }, '2023-11-14T22:13:20.000001Z'],
    [{ seconds: 1_700_000_000, nanos: 123_456_789 }, '2023-11-14T22:13:20.123456789Z'],
    [{ seconds: 1_700_000_000, nanos: 1 }, '2023-11-14T22:13:20.000000001Z'],
    [{ seconds: 0n, nanos: 0 }, '1970-01-01T00:00:00Z'],
  ])('formats %o as %s', (timestamp, text) => {
    expect(formatTimestamp(timestamp)).toBe(text);
  });

  it.each([
    ['2023-11-14T22:13:20Z', { seconds: 1_700_000_000, nanos: 0 }],
    ['2023-11-14T22:13:20.5Z', { seconds: 1_700_000_000, nanos: 500_000_000 }],
    ['2023-11-14T22:13:20.123456789Z', { seconds: 1_700_000_000, nanos: 123_456_789 }],
    ['2000-02-29T01:02:03.000001Z', { seconds: 951_786_123, nanos: 1_000 }],
  ])('parses %s', (text, timestamp) => {
    expect(parseTimestamp(text)).toEqual(timestamp);
  });

  it.each(['2023-11-14T22:13:20', '2023-11-14 22:13:20Z', '2023-11-14T22:13:20.1234567890Z', 'x2023-11-14T22:13:20Z'])(
    'refuses %s, naming it',
    (text) => {
      expect(() => parseTimestamp(text)).toThrow(TypeError);
      expect(() => parseTimestamp(text)).toThrow(JSON.stringify(text));
    },
  );

  it('rounds Unix seconds to the microsecond, carrying into the next second', () => {
    expect(timestampFromUnix(1_700_000_000.25)).toEqual({ seconds: 1_700_000_000, nanos: 250_000_000 });
    expect(timestampFromUnix(1.0000004)).toEqual({ seconds: 1, nanos: 0 });
    expect(timestampFromUnix(1.9999996)).toEqual({ seconds: 2, nanos: 0 });
    expect(timestampFromUnix(1.9999994)).toEqual({ seconds: 1, nanos: 999_999_000 });
    expect(timestampFromUnix(-0.5)).toEqual({ seconds: -1, nanos: 500_000_000 });
    expect(formatUnixTimestamp(1_700_000_000.125)).toBe('2023-11-14T22:13:20.125Z');
  });
});
