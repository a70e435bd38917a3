import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NumberScanner } from '../../src/formats/ndjson/scan-number.js';

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
});
