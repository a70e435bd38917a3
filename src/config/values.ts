/**
 * Reading one config field's value from code or from the environment, checked against its kind
 * and range. Every error names the field (or the environment variable) and the bad value.
 */
import { ConfigError, describe } from '../errors.js';
import type { FieldSpec } from './fields.js';

type Env = NodeJS.ProcessEnv;

/** A value given in code, checked against the field's kind; undefined when not given. */
export function fromValue(field: FieldSpec, value: unknown): unknown {
  if (value === undefined) return undefined;
  switch (field.kind) {
    case 'string':
    case 'path':
      if (typeof value !== 'string' || value === '')
        throw new ConfigError(field.name, value, 'a non-empty string');
      return checkChoice(field, field.name, value);
    case 'boolean':
      if (typeof value !== 'boolean') throw new ConfigError(field.name, value, 'true or false');
      return value;
    case 'number':
    case 'integer':
      return checkNumber(field.name, value, ruleOf(field));
    case 'object':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new ConfigError(field.name, value, 'a plain object');
      }
      return value;
  }
}

/** The first of the field's environment variables that is set, parsed by kind. */
export function fromEnv(field: FieldSpec, env: Env): unknown {
  for (const name of field.env) {
    if (envStr(env, name) === undefined) continue;
    switch (field.kind) {
      case 'string':
      case 'path':
        return checkChoice(field, name, envStr(env, name) as string);
      case 'boolean':
        return envBool(env, name);
      case 'number':
      case 'integer':
        return envNum(env, name, ruleOf(field));
      case 'object':
        return undefined;
    }
  }
  return undefined;
}

/** A string field with `choices` takes only those; the error names where the value came from. */
function checkChoice(field: FieldSpec, source: string, value: string): string {
  if (field.choices === undefined || field.choices.includes(value)) return value;
  const where = source === field.name ? '' : ` (environment variable ${source})`;
  throw new ConfigError(source, value, `one of ${field.choices.join(', ')}${where}`);
}

function ruleOf(field: FieldSpec): NumberRule {
  return { min: field.min, max: field.max, integer: field.kind === 'integer' };
}

/** OTLP endpoints must be http(s) URLs: a typo would otherwise fail quietly on every export. */
export function checkOtlpEndpoints(env: Env): boolean {
  let set = false;
  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']) {
    const text = envStr(env, name);
    if (text === undefined) continue;
    set = true;
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new ConfigError(name, text, `an http:// or https:// URL (environment variable ${name})`);
    }
  }
  return set;
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

export function checkNumber(field: string, value: unknown, rule: NumberRule): number {
  const expected = [
    rule.integer ? 'an integer' : 'a finite number',
    rule.min !== undefined ? `>= ${rule.min}` : '',
    rule.max !== undefined ? `<= ${rule.max}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(field, value, expected);
  if (rule.integer && !Number.isInteger(value)) throw new ConfigError(field, value, expected);
  if (rule.min !== undefined && value < rule.min) throw new ConfigError(field, value, expected);
  if (rule.max !== undefined && value > rule.max) throw new ConfigError(field, value, expected);
  return value;
}

export function envStr(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function envNum(env: Env, name: string, rule: NumberRule): number | undefined {
  const text = envStr(env, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (Number.isNaN(value)) throw new ConfigError(name, text, `a number (environment variable ${name})`);
  return checkNumber(name, value, rule);
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

export function envBool(env: Env, name: string): boolean | undefined {
  const text = envStr(env, name)?.toLowerCase();
  if (text === undefined) return undefined;
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  throw new ConfigError(
    name,
    text,
    `one of 1/0, true/false, yes/no, on/off (environment variable ${name}, got ${describe(text)})`,
  );
}
