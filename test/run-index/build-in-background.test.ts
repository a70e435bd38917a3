/** The index built beside a dashboard never holds the process open once the dashboard stops. */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const BUILD = fileURLToPath(new URL('../../dist/src/run-index/build-in-background.js', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'index-background-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('an index built in the background', () => {
  it('lets the process exit while it is still building (a dashboard took 85 s to end on SIGTERM)', async () => {
    // A FIFO nobody writes to: the worker's read of it never ends, as a long build would not.
    const stream = path.join(dir, 'metrics.ndjson');
    expect(spawnSync('mkfifo', [stream]).status).toBe(0);
    const script = `
      const { buildInBackground } = await import(${JSON.stringify(BUILD)});
      buildInBackground([${JSON.stringify(stream)}], (m) => console.error(m));
      setTimeout(() => console.log('main done'), 200);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += String(d)));
    const exited = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      child.on('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!exited) child.kill('SIGKILL');
    expect(out).toContain('main done');
    expect(exited).toBe(true);
  });
});
