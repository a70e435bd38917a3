import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimFile, perRunPath } from '../../../src/exporters/file/file-claim.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-claim-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited (its pid is free again). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describe('claimFile', () => {
  it('gives the file to the first run, and releases the claim when that run closes', () => {
    const file = path.join(root, 'a', 'metrics.ndjson');
    const claim = claimFile(file, 'run1');
    expect(claim).toMatchObject({ path: file, heldBy: undefined });
    expect(JSON.parse(fs.readFileSync(`${file}.owner`, 'utf8'))).toEqual({ runId: 'run1', pid: process.pid });
    claim.release();
    expect(fs.existsSync(`${file}.owner`)).toBe(false);
  });

  it('sends a second run beside a file a live process holds, naming that run', () => {
    const file = path.join(root, 'b', 'metrics.ndjson');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // The parent of this test process is alive for as long as the test runs.
    fs.writeFileSync(`${file}.owner`, JSON.stringify({ runId: 'other', pid: process.ppid }));
    const claim = claimFile(file, 'run2');
    expect(claim.path).toBe(path.join(root, 'b', 'metrics.run2.ndjson'));
    expect(claim.heldBy).toEqual({ runId: 'other', pid: process.ppid });
    claim.release();
    expect(fs.existsSync(`${file}.owner`), "the other run's claim stays").toBe(true);
  });

  it('takes over a claim its crashed owner left behind, so runs one after the other share the file', () => {
    const file = path.join(root, 'c', 'metrics.ndjson');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.owner`, JSON.stringify({ runId: 'crashed', pid: deadPid() }));
    expect(claimFile(file, 'run3')).toMatchObject({ path: file, heldBy: undefined });
    fs.writeFileSync(`${file}.owner`, '{"runId":"torn');
    expect(claimFile(file, 'run4')).toMatchObject({ path: file, heldBy: undefined });
  });

  it('never throws when the folder cannot hold a claim: the sink reports its own error', () => {
    const notDir = path.join(root, 'plain-file');
    fs.writeFileSync(notDir, '');
    const file = path.join(notDir, 'metrics.ndjson');
    expect(claimFile(file, 'run5')).toMatchObject({ path: file, heldBy: undefined });
  });

  it('names the per-run file after the run, before the extension', () => {
    expect(perRunPath('/out/.codex/eval_metrics.ndjson', 'abc')).toBe('/out/.codex/eval_metrics.abc.ndjson');
  });
});
