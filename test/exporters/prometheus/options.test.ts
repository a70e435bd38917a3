import { describe, expect, it } from 'vitest';
import {
  metricsUrl,
  portForRank,
  prometheusOptionsFromEnv,
} from '../../../src/exporters/prometheus/options.js';
import { ConfigError } from '../../../src/errors.js';

describe('prometheusOptionsFromEnv', () => {
  it('reads host, port and LOCAL_RANK from the standard variables', () => {
    expect(
      prometheusOptionsFromEnv({
        OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0',
        OTEL_EXPORTER_PROMETHEUS_PORT: '9500',
        LOCAL_RANK: '2',
      }),
    ).toEqual({ host: '0.0.0.0', port: 9500, localRank: 2 });
  });

  it('keeps port 0 as "any free port" rather than treating it as unset', () => {
    expect(prometheusOptionsFromEnv({ OTEL_EXPORTER_PROMETHEUS_PORT: '0' })).toEqual({ port: 0 });
  });

  it('leaves unset and blank variables out so the defaults apply', () => {
    expect(prometheusOptionsFromEnv({ OTEL_EXPORTER_PROMETHEUS_HOST: '  ', LOCAL_RANK: '' })).toEqual({});
  });

  it('names the variable when its value is not a port', () => {
    for (const bad of ['abc', '-1', '0x10', '70000', '1.5']) {
      let caught: unknown;
      try {
        prometheusOptionsFromEnv({ OTEL_EXPORTER_PROMETHEUS_PORT: bad });
      } catch (error) {
        caught = error;
      }
      expect(caught, bad).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).field).toBe('OTEL_EXPORTER_PROMETHEUS_PORT');
      expect((caught as ConfigError).message).toContain(JSON.stringify(bad));
    }
  });
});

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
