import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { RotationPolicy } from '../../../src/exporters/file/rotation-policy.js';

describe('RotationPolicy', () => {
  it('never rotates by default', () => {
    const policy = new RotationPolicy();
    expect([policy.maxBytes, policy.maxSeconds, policy.enabled]).toEqual([0, 0, false]);
    expect(policy.shouldRotate(Number.MAX_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('rotates once the file holds at least maxBytes, not one byte before', () => {
    const policy = new RotationPolicy({ maxBytes: 1000 });
    expect(policy.enabled).toBe(true);
    expect(policy.shouldRotate(999, 0, 1e12)).toBe(false);
    expect(policy.shouldRotate(1000, 0, 0)).toBe(true);
    expect(policy.shouldRotate(1001, 0, 0)).toBe(true);
  });

  it('rotates once the file is maxSeconds old, measured in milliseconds, not one before', () => {
    const policy = new RotationPolicy({ maxSeconds: 2.5 });
    expect(policy.enabled).toBe(true);
    expect(policy.shouldRotate(1e12, 10_000, 12_499)).toBe(false);
    expect(policy.shouldRotate(0, 10_000, 12_500)).toBe(true);
    expect(policy.shouldRotate(0, 10_000, 13_000)).toBe(true);
  });

  it('rotates on whichever limit comes first when both are set', () => {
    const policy = new RotationPolicy({ maxBytes: 10, maxSeconds: 1 });
    expect(policy.shouldRotate(10, 0, 0)).toBe(true);
    expect(policy.shouldRotate(0, 0, 1000)).toBe(true);
    expect(policy.shouldRotate(9, 0, 999)).toBe(false);
  });

  it.each([
    [{ maxBytes: -1 }, 'rotateBytes'],
    [{ maxBytes: 1.5 }, 'rotateBytes'],
    [{ maxBytes: Number.NaN }, 'rotateBytes'],
    [{ maxSeconds: -0.1 }, 'rotateSeconds'],
    [{ maxSeconds: Number.POSITIVE_INFINITY }, 'rotateSeconds'],
    [{ maxSeconds: Number.NaN }, 'rotateSeconds'],
  ])('refuses %o as a config error naming %s', (options, field) => {
    expect(() => new RotationPolicy(options)).toThrow(ConfigError);
    expect(() => new RotationPolicy(options)).toThrow(`"${field}"`);
  });
});
