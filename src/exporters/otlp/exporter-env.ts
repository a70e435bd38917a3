/**
 * Checks the `OTEL_EXPORTER_OTLP_*` variables the official exporters read from `process.env`
 * themselves (headers, compression, timeout, TLS files, insecure, temporality). The exporters only
 * log a `diag` warning for a bad value and carry on with a default, so a typo would silently send
 * uncompressed, unauthenticated or to the wrong temporality; here it is a ConfigError naming the
 * variable. Header values are secrets (auth tokens): no error or message ever contains one.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors.js';

const GENERIC = 'OTEL_EXPORTER_OTLP_';
const METRICS = 'OTEL_EXPORTER_OTLP_METRICS_';

/** Both spellings of one setting, the metrics-specific one first (it wins in the exporters). */
function both(setting: string): readonly [string, string] {
  return [`${METRICS}${setting}`, `${GENERIC}${setting}`];
}

/** Throws a ConfigError for the first malformed OTLP exporter variable. */
export function checkOtlpExporterEnv(env: NodeJS.ProcessEnv): void {
  for (const name of both('HEADERS')) checkHeaders(env, name);
  for (const name of both('COMPRESSION')) checkChoice(env, name, ['none', 'gzip']);
  for (const name of both('TIMEOUT')) checkMillis(env, name);
  for (const name of both('INSECURE')) checkChoice(env, name, ['true', 'false']);
  for (const setting of ['CERTIFICATE', 'CLIENT_KEY', 'CLIENT_CERTIFICATE']) {
    for (const name of both(setting)) checkReadableFile(env, name);
  }
  checkChoice(env, `${METRICS}TEMPORALITY_PREFERENCE`, ['cumulative', 'delta', 'lowmemory']);
}

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function checkChoice(env: NodeJS.ProcessEnv, name: string, choices: readonly string[]): void {
  const value = text(env, name);
  if (value === undefined || choices.includes(value.toLowerCase())) return;
  throw new ConfigError(name, value, `one of ${choices.join(', ')} (environment variable ${name})`);
}

function checkMillis(env: NodeJS.ProcessEnv, name: string): void {
  const value = text(env, name);
  if (value === undefined) return;
  if (!/^\d+$/.test(value) || Number(value) <= 0) {
    throw new ConfigError(name, value, `a whole number of milliseconds > 0 (environment variable ${name})`);
  }
}

/**
 * `key1=value1,key2=value2`, values percent-encoded (the OTLP exporter spec). The error shows the
 * key and the pair's position, never a value: `describe` would otherwise print the token.
 */
function checkHeaders(env: NodeJS.ProcessEnv, name: string): void {
  const raw = text(env, name);
  if (raw === undefined) return;
  raw.split(',').forEach((pair, index) => {
    const at = pair.indexOf('=');
    const key = at < 0 ? pair.trim() : pair.slice(0, at).trim();
    const shown = `pair ${index + 1}, ${key === '' ? 'no key' : `key ${key}`}, value not shown`;
    const expected = `key=value pairs separated by commas, values percent-encoded (environment variable ${name})`;
    if (at <= 0 || key === '' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
      throw new ConfigError(name, shown, expected);
    }
    const value = pair.slice(at + 1).trim();
    if (value === '') throw new ConfigError(name, shown, expected);
    try {
      decodeURIComponent(value);
    } catch (error) {
      if (!(error instanceof URIError)) throw error;
      throw new ConfigError(name, shown, expected);
    }
  });
}

function checkReadableFile(env: NodeJS.ProcessEnv, name: string): void {
  const value = text(env, name);
  if (value === undefined) return;
  try {
    accessSync(path.resolve(value), fsConstants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new ConfigError(name, value, `a readable PEM file (${code}; environment variable ${name})`);
  }
}
