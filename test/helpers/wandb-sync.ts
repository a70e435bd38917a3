/**
 * Runs the real `wandb sync` (wandb 0.30.0: its Python CLI and the Go wandb-core it starts) against a
 * stand-in server, in a throwaway HOME so its logs can be read back and nothing touches the user's.
 *
 * The CLI comes from CODEX_WANDB_BIN, else the venv `.ci/run` makes (/tmp/codex-wandb-venv). Without
 * it, tests fail when CI is set and are skipped (with the reason) elsewhere.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const WANDB_BIN = process.env.CODEX_WANDB_BIN ?? '/tmp/codex-wandb-venv/bin/wandb';
export const WANDB_VERSION = '0.30.0';

/** Why the real client cannot run here, or undefined when it can. */
export function wandbMissing(): string | undefined {
  const probe = spawnSync(WANDB_BIN, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${WANDB_BIN} cannot start (${probe.error.message})`;
  if (probe.status !== 0) return `${WANDB_BIN} --version failed: ${probe.stderr.trim().split('\n').at(-1)}`;
  if (!probe.stdout.includes(WANDB_VERSION))
    return `${WANDB_BIN} is ${probe.stdout.trim()}, not ${WANDB_VERSION}`;
  return undefined;
}

/** Fails the file in CI when the client is missing (CI installs it); elsewhere the caller skips. */
export function requireWandbInCi(file: string): string | undefined {
  const missing = wandbMissing();
  if (missing !== undefined && process.env.CI) {
    throw new Error(
      `${file}: ${missing}. CI must install wandb ${WANDB_VERSION} (.ci/run does) or set CODEX_WANDB_BIN`,
    );
  }
  return missing;
}

export interface SyncResult {
  code: number | null;
  /** The CLI's stdout and stderr together. */
  output: string;
  /** wandb-core's WARN and ERROR log lines (`level: msg`), from every log it wrote. */
  coreProblems: string[];
}

/** `wandb sync --entity E --project P <runDirs...>` against `baseUrl`. */
export async function wandbSync(
  runDirs: readonly string[],
  baseUrl: string,
  options: { entity: string; project: string; timeoutMs?: number },
): Promise<SyncResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-wandb-home-'));
  try {
    const child = spawn(
      WANDB_BIN,
      ['sync', '--entity', options.entity, '--project', options.project, ...runDirs],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          XDG_CACHE_HOME: path.join(home, '.cache'),
          XDG_CONFIG_HOME: path.join(home, '.config'),
          WANDB_DIR: home,
          WANDB_BASE_URL: baseUrl,
          // Any 40 characters: the stand-in checks no key.
          WANDB_API_KEY: 'x'.repeat(40),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A request the stand-in answers wrongly makes wandb-core retry for minutes: stop it and say so.
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms: wandb sync did not finish]\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    }).finally(() => clearTimeout(timer));
    return { code, output, coreProblems: coreProblems(home) };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

function coreProblems(home: string): string[] {
  const problems: string[] = [];
  for (const file of fs.readdirSync(home, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.log')) continue;
    for (const line of fs.readFileSync(path.join(home, file), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'WARN' || entry.level === 'ERROR') problems.push(`${entry.level}: ${entry.msg}`);
    }
  }
  return problems;
}
