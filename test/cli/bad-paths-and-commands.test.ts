/** `tail` given a folder or an unreadable stream, `run` given a trainer that is not there or a folder it cannot write. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/parse-cli.js';
import { runChild } from '../../src/cli/run-command.js';
import { runTail } from '../../src/cli/tail-command.js';
import { listWandbRuns } from '../../src/cli/wandb-ls.js';
import { captureIo } from '../helpers/capture-io.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-bad-paths-'));
  dirs.push(dir);
  return dir;
}

const QUIET = { CODEX_SYSTEM_METRICS_INTERVAL: '0', PATH: process.env.PATH };

function ownerFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.owner'));
}

async function tail(argv: string[]) {
  const parsed = parseCli(['tail', '--no-prometheus', ...argv]);
  if (parsed.command !== 'tail') throw new Error(JSON.stringify(parsed));
  const captured = captureIo(QUIET);
  return { code: await runTail(parsed.options, parsed.files, captured.io), ...captured };
}

async function run(argv: string[]) {
  const parsed = parseCli(['run', '--no-prometheus', ...argv]);
  if (parsed.command !== 'run') throw new Error(JSON.stringify(parsed));
  const captured = captureIo(QUIET);
  return { code: await runChild(parsed.options, parsed.child, captured.io), ...captured };
}

describe('tail given something that is not a stream', () => {
  it('names a folder in one line and exits 2, leaving no crashed W&B run nor stale .owner file', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'adir'));
    const out = path.join(dir, 'out');
    const result = await tail(['--from-start', '--out', out, path.join(dir, 'adir')]);
    expect(result.code).toBe(2);
    expect(result.stderr()).toBe(
      `tail: ${path.join(dir, 'adir')} is a folder, not NDJSON files; name the streams, e.g. '${path.join(dir, 'adir', '*.ndjson')}'\n`,
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  it('closes every sink with the outcome when a followed stream turns out a folder: the W&B run ends, no .owner stays', async () => {
    const dir = tempDir();
    const stream = path.join(dir, 'metrics.ndjson');
    const out = path.join(dir, 'out');
    const following = tail(['--follow', '--out', out, stream]);
    // The stream appears, as a folder, while tail waits for it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    fs.mkdirSync(stream);
    const result = await following;
    expect(result.code).toBe(1);
    expect(result.stderr()).toMatch(/^tail: cannot read the streams: .*metrics\.ndjson/m);
    expect(ownerFiles(out)).toEqual([]);
    const runs = listWandbRuns(path.join(out, 'wandb'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ complete: true, exitCode: 1 });
  });
});

describe('run given a trainer it cannot start or a folder it cannot write', () => {
  it('exits 127 in one line for run -- nonexistent-cmd, writing no sink and no W&B run', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    const result = await run(['--out', out, '--', 'nonexistent-cmd-x9', '--flag']);
    expect(result.code).toBe(127);
    expect(result.stderr()).toBe(
      'codex-telemetry: cannot start the trainer: nonexistent-cmd-x9 is not a command on PATH\n',
    );
    expect(fs.existsSync(path.join(out, 'wandb'))).toBe(false);
  });

  it('refuses a folder it cannot write before starting the trainer, naming the path', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'a-file'), '');
    const marker = path.join(dir, 'trainer-started');
    const result = await run(['--out', path.join(dir, 'a-file', 'out'), '--', 'touch', marker]);
    expect(result.code).toBe(2);
    expect(result.stderr()).toMatch(
      /^codex-telemetry: the trainer could not write CODEX_METRICS_OUT=.*a-file\/out\/\.codex\/metrics\.ndjson: ENOTDIR.*; choose a folder you can write with --out DIR\n$/,
    );
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('says the trainer failed before its first row, not that it must append rows, when it exits non-zero', async () => {
    const dir = tempDir();
    const result = await run([
      '--out',
      path.join(dir, 'out'),
      '--first-row-timeout',
      '0',
      '--',
      'sh',
      '-c',
      'exit 3',
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr()).toContain('the trainer exited with 3 before writing a row; see its output above');
    expect(result.stderr()).not.toContain('the trainer must append');
  });
});
