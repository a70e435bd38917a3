import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { formatWandbRuns, listWandbRuns, wandbLsCommand } from '../../src/cli/wandb-ls.js';
import { captureIo } from '../helpers/capture-io.js';

const GOLDEN = fileURLToPath(new URL('../fixtures/wandb/', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A W&B dir holding the golden runs, one synced, one damaged, and things ls must skip. */
function wandbDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-wandb-ls-'));
  dirs.push(dir);
  fs.cpSync(path.join(GOLDEN, 'wandb'), dir, { recursive: true });
  for (const entry of fs.readdirSync(dir, { recursive: true }))
    fs.chmodSync(path.join(dir, String(entry)), 0o755);
  fs.writeFileSync(path.join(dir, 'offline-run-20250101_000000-g0ld3nv1', 'run-g0ld3nv1.wandb.synced'), '');
  const damaged = path.join(dir, 'offline-run-20250102_000000-tr0nc4t3');
  fs.mkdirSync(damaged);
  fs.copyFileSync(
    path.join(GOLDEN, 'corrupt/run-g0ld3nv1.truncated.wandb'),
    path.join(damaged, 'run-tr0nc4t3.wandb'),
  );
  fs.mkdirSync(path.join(dir, 'run-20250101_000000-online01'));
  fs.symlinkSync('offline-run-20250101_000001-cr4sh3d1', path.join(dir, 'latest-run'));
  return dir;
}

describe('wandb ls', () => {
  it('lists each offline run with size, record count, completeness and sync state', () => {
    const dir = wandbDir();
    const runs = listWandbRuns(dir);
    expect(
      runs.map(({ name, runId, size, records, complete, exitCode, synced, problem }) => ({
        name,
        runId,
        size,
        records,
        complete,
        exitCode,
        synced,
        problem,
      })),
    ).toEqual([
      {
        name: 'offline-run-20250101_000000-g0ld3nv1',
        runId: 'g0ld3nv1',
        size: 1586,
        records: 14,
        complete: true,
        exitCode: 0,
        synced: true,
        problem: undefined,
      },
      {
        name: 'offline-run-20250101_000001-cr4sh3d1',
        runId: 'cr4sh3d1',
        size: 236,
        records: 3,
        complete: false,
        exitCode: undefined,
        synced: false,
        problem: undefined,
      },
      {
        name: 'offline-run-20250101_000002-mb10ck01',
        runId: 'mb10ck01',
        size: 131123,
        records: 8,
        complete: true,
        exitCode: 1,
        synced: false,
        problem: undefined,
      },
      {
        name: 'offline-run-20250102_000000-tr0nc4t3',
        runId: 'tr0nc4t3',
        size: 1581,
        records: 13,
        complete: true,
        exitCode: 0,
        synced: false,
        problem: 'truncated at byte offset 1574',
      },
    ]);
  });

  it('formats a table that says what is left to sync', () => {
    const dir = wandbDir();
    const text = formatWandbRuns(listWandbRuns(dir), dir);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^RUN\s+SIZE\s+RECORDS\s+STATE\s+SYNCED$/);
    expect(lines[1]).toMatch(/^offline-run-20250101_000000-g0ld3nv1\s+1\.5 KiB\s+14\s+finished\s+yes$/);
    expect(lines[2]).toMatch(/cr4sh3d1\s+236 B\s+3\s+no exit record \(crashed or running\)\s+no$/);
    expect(lines[3]).toMatch(/mb10ck01\s+128\.0 KiB\s+8\s+failed \(exit 1\)\s+no$/);
    expect(lines[4]).toMatch(/tr0nc4t3 .* finished; truncated at byte offset 1574\s+no$/);
    expect(text).toContain('4 runs, 3 not synced. Upload with: wandb sync');
  });

  it('reports a missing directory as having no runs, and a run without its log as unreadable', () => {
    expect(formatWandbRuns(listWandbRuns('/nonexistent/wandb'), '/nonexistent/wandb')).toBe(
      'no W&B offline runs in /nonexistent/wandb\n',
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-wandb-ls-'));
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'offline-run-20250101_000000-empty001'));
    expect(listWandbRuns(dir)[0]).toMatchObject({
      records: 0,
      complete: false,
      problem: 'cannot read run-empty001.wandb (ENOENT)',
    });
  });
});

describe('wandb ls on a folder that is not there', () => {
  it('exits 2 naming the folder, instead of 0 with "no W&B offline runs"', () => {
    const captured = captureIo({});
    expect(wandbLsCommand('nonexist', captured.io)).toBe(2);
    expect(captured.stderr()).toMatch(/^codex-telemetry: no such folder: nonexist; pass the W&B folder/);
    expect(captured.stdout()).toBe('');
    const fromEnv = captureIo({ WANDB_DIR: '/nonexistent/wandb' });
    expect(wandbLsCommand(undefined, fromEnv.io)).toBe(2);
    expect(fromEnv.stderr()).toContain('/nonexistent/wandb (from WANDB_DIR)');
  });

  it('says "1 run", not "1 runs", and still exits 0 for an existing folder without runs', () => {
    const dir = wandbDir();
    const one = listWandbRuns(dir).slice(0, 1);
    expect(formatWandbRuns(one, dir)).toMatch(/^1 run, /m);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-wandb-empty-'));
    dirs.push(empty);
    const captured = captureIo({});
    expect(wandbLsCommand(empty, captured.io)).toBe(0);
    expect(captured.stdout()).toBe(`no W&B offline runs in ${empty}\n`);
  });
});
