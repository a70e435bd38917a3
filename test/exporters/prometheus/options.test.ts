import { describe, expect, it } from 'vitest';
import { metricsUrl, portForRank } from '../../../src/exporters/prometheus/options.js';
import { ConfigError } from '../../../src/errors.js';

describe('portForRank', () => {
  it('offsets a fixed port by the local rank and leaves port 0 alone', () => {
    expect(portForRank(9464, 0)).toBe(9464);
    expect(portForRank(9464, 7)).toBe(9471);
    expect(portForRank(0, 7)).toBe(0);
  });

  it('refuses a rank that would push the port past 65535', () => {
    expect(() => portForRank(65530, 6)).toThrow(ConfigError);
  });
});

describe('metricsUrl', () => {
  it('brackets IPv6 literals', () => {
    expect(metricsUrl('::1', 9464)).toBe('http://[::1]:9464/metrics');
    expect(metricsUrl('127.0.0.1', 9464)).toBe('http://127.0.0.1:9464/metrics');
  });
});
