import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NumberScanner } from '../../../src/ndjson/line/scan-number.js';

function scan(text: string): number | undefined {
  const scanner = new NumberScanner();
  const buf = Buffer.from(`${text},`);
  if (!scanner.scan(buf, 0, buf.length)) return undefined;
  expect(scanner.end).toBe(text.length);
  return scanner.value;
}

describe('NumberScanner', () => {
  it('reads the same double as JSON.parse for short, long, exponent and negative-zero spellings', () => {
    for (const text of [
      '0',
      '-0',
      '1',
      '42',
      '0.1',
      '0.42',
      '1764334495.123456',
      '2.308414709848079',
      '0.12345678901234568',
      '1e-7',
      '1.5E+300',
      '-3.25e-5',
      '123456789012345678901234567890',
      '5e-324',
      '1e400',
    ])
      expect(Object.is(scan(text), JSON.parse(text))).toBe(true);
  });

  it('rejects what JSON does not allow: a bare minus, a dot without digits, an empty exponent', () => {
    for (const text of ['-', '.5', '1.', '1e', 'e5', '+1']) expect(scan(text)).toBeUndefined();
  });

  it('agrees with JSON.parse on every double printed by String()', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(Object.is(scan(String(x)), JSON.parse(String(x)))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
  it('reads exponents without a sign as positive and with + as positive, in the exact range too', () => {
    for (const text of ['1e5', '2E3', '1.5e+5', '7E+21', '3e22', '-4e1', '1e-22', '9.5e-3'])
      expect(Object.is(scan(text), JSON.parse(text)), text).toBe(true);
  });

  it('stops after a leading zero and before any byte that is not part of the number', () => {
    const scanner = new NumberScanner();
    for (const [text, length, value] of [
      ['0123', 1, 0],
      ['-0.5x', 4, -0.5],
      ['1:', 1, 1],
      ['2.5:', 3, 2.5],
      ['12/', 2, 12],
      ['3.25e2}', 6, 325],
    ] as const) {
      expect(scanner.scan(Buffer.from(text), 0, text.length), text).toBe(true);
      expect([scanner.end, scanner.value], text).toEqual([length, value]);
    }
  });

  it('never reads past its limit: a number cut there reads as the cut text alone', () => {
    // The reader hands the scanner one line of a larger chunk; the bytes after the line's end
    // (here digits, a dot and an exponent that would extend the number) must not count.
    const scanner = new NumberScanner();
    for (const text of ['-12.5e3', '12345678901234567.25', '0.0625', '7E-2', '1e+5']) {
      const buf = Buffer.from(`${text}9.5e9`);
      for (let limit = 0; limit <= text.length; limit++) {
        const expected = longestNumberPrefix(text.slice(0, limit));
        const ok = scanner.scan(buf, 0, limit);
        if (expected === undefined) {
          expect(ok, `${text} cut at ${limit}`).toBe(false);
        } else {
          expect([ok, scanner.value], `${text} cut at ${limit}`).toEqual([true, expected.value]);
          expect(scanner.end, `${text} cut at ${limit}`).toBe(expected.length);
        }
      }
    }
  });
});

/**
 * JSON.parse of the longest prefix of `text` that is a complete JSON number, or undefined when a
 * prefix that starts a number has no complete form (`-`, `1.`, `1e`, `1e+`): the scanner refuses those.
 */
function longestNumberPrefix(text: string): { value: number; length: number } | undefined {
  const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text);
  if (match === null) return undefined;
  const rest = text.slice(match[0].length);
  // A dot or exponent marker that starts right after the match but has no digits: not a number.
  if (/^(\.|[eE])/.test(rest)) return undefined;
  return { value: JSON.parse(match[0]) as number, length: match[0].length };
}
