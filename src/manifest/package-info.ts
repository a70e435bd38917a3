/**
 * Name and version of this package, read from the package.json above the running module: that is
 * `../../package.json` from `src/manifest/` under vitest and `../../../package.json` from
 * `dist/src/manifest/` once built, so walk up instead of hard-coding either.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag } from '@opentelemetry/api';
import { errnoCode } from '../errors.js';

const PACKAGE_NAME = 'codex-telemetry';

export interface PackageInfo {
  name: string;
  version: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  cached ??= find(path.dirname(fileURLToPath(import.meta.url)));
  return cached;
}

function find(start: string): PackageInfo {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = read(path.join(dir, 'package.json'));
    if (candidate?.name === PACKAGE_NAME) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  // A bundler may have dropped package.json; the rest of the manifest is still worth writing.
  diag.debug(`codex-telemetry: no package.json named ${PACKAGE_NAME} above ${start}`);
  return { name: PACKAGE_NAME, version: 'unknown' };
}

function read(file: string): PackageInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as { name?: unknown; version?: unknown };
  return typeof parsed.name === 'string' && typeof parsed.version === 'string'
    ? { name: parsed.name, version: parsed.version }
    : undefined;
}
