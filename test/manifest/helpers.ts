/** Shared set-up for the manifest tests: temp folders, the schema validator, a diag capture. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { Ajv2020 } from 'ajv/dist/2020.js';

export function tempDir(prefix = 'codex-manifest-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const schema = JSON.parse(
  fs.readFileSync(new URL('../../docs/run_manifest.schema.json', import.meta.url), 'utf8'),
) as object;
const validate = new Ajv2020({ strict: false }).compile(schema);

/** Schema errors of a manifest's JSON text ([] when valid). */
export function schemaErrors(text: string): unknown[] {
  validate(JSON.parse(text));
  return validate.errors ?? [];
}

export function readManifest(file: string): Record<string, unknown> & {
  checkpoint: Record<string, unknown>;
  env: Record<string, string>;
  lock_sha256: Record<string, string>;
  runtime: Record<string, string>;
  metrics_archive?: {
    dir: string;
    error?: string;
    files: Array<{ name: string; source: string; size_bytes: number; sha256: string; method: string }>;
  };
} {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ReturnType<typeof readManifest>;
}

/** `sha256sum FILE`'s digest; the tool must exist in CI (coreutils). */
export function sha256sum(file: string): string {
  return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0] as string;
}

/** Collects our diag lines (not the API's own registration notices) at DEBUG level until `stop()`. */
export function captureDiag(): { lines: string[]; stop: () => void } {
  const lines: string[] = [];
  const push = (message: string) => {
    if (message.startsWith('codex-telemetry')) lines.push(message);
  };
  const logger: DiagLogger = { error: push, warn: push, info: push, debug: push, verbose: push };
  diag.setLogger(logger, { logLevel: DiagLogLevel.DEBUG, suppressOverrideMessage: true });
  return { lines, stop: () => diag.disable() };
}
