/**
 * Where the Prometheus endpoint listens: defaults, validation and the per-rank port (the
 * `OTEL_EXPORTER_PROMETHEUS_*` variables are read with every other setting, in src/config). Pure
 * functions, no sockets.
 */
import { ConfigError } from '../../errors.js';

/** Loopback by default: serving other interfaces exposes run data and must be an explicit choice. */
export const DEFAULT_PROMETHEUS_HOST = '127.0.0.1';
/** The port registered for OpenTelemetry's Prometheus exporter (Prometheus' default-port wiki). */
export const DEFAULT_PROMETHEUS_PORT = 9464;
export const METRICS_PATH = '/metrics';

const MAX_PORT = 65535;

/**
 * The port one rank listens on: `port + localRank`, so ranks sharing a host do not collide.
 * Port 0 stays 0 (the kernel picks a free port for each rank anyway).
 */
export function portForRank(port: number, localRank: number): number {
  checkInteger('port', port, 0, MAX_PORT);
  checkInteger('localRank', localRank, 0, MAX_PORT);
  if (port === 0) return 0;
  const rankPort = port + localRank;
  if (rankPort > MAX_PORT) {
    throw new ConfigError('port', port, `a port such that port + localRank (${localRank}) <= ${MAX_PORT}`);
  }
  return rankPort;
}

/** `http://host:port/metrics`, with IPv6 literals in brackets as URLs require. */
export function metricsUrl(host: string, port: number): string {
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${hostPart}:${port}${METRICS_PATH}`;
}

export function checkHost(host: unknown): string {
  if (typeof host !== 'string' || host.trim() === '') {
    throw new ConfigError('host', host, 'a non-empty host name or IP address, e.g. "127.0.0.1"');
  }
  return host.trim();
}

function checkInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, value, `an integer from ${min} to ${max}`);
  }
  return value;
}
