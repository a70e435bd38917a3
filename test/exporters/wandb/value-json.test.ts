import { describe, expect, it } from 'vitest';
import {
  jsonWithNonFinite,
  numberJson,
  roundMicros,
  valueJson,
} from '../../../src/formats/wandb/value-json.js';

describe('W&B value_json', () => {
  it('writes non-finite numbers as the bare words W&B reads, never null', () => {
    expect([NaN, Infinity, -Infinity, 0.25, -3].map(numberJson)).toEqual([
      'NaN',
      'Infinity',
      '-Infinity',
      '0.25',
      '-3',
    ]);
  });

  it('writes bigints exactly, strings and booleans as JSON', () => {
    expect(valueJson(2n ** 62n + 1n)).toBe('4611686018427387905');
    expect(valueJson(-Infinity)).toBe('-Infinity');
    expect(valueJson('a"b')).toBe('"a\\"b"');
    expect(valueJson(true)).toBe('true');
  });

  it('serializes summaries with bare non-finite values, dropping undefined keys', () => {
    expect(
      jsonWithNonFinite({
        loss: NaN,
        best: [1, -Infinity],
        step: 2n ** 63n - 1n,
        gone: undefined,
        name: 'x',
        n: null,
      }),
    ).toBe('{"loss": NaN, "best": [1, -Infinity], "step": 9223372036854775807, "name": "x", "n": null}');
    expect(jsonWithNonFinite(undefined)).toBe('null');
  });

  it('rounds seconds to the microsecond', () => {
    expect(roundMicros(1.0000004)).toBe(1);
    expect(roundMicros(2.0000015)).toBe(2.000002);
  });
});
