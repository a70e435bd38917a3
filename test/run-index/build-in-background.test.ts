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

/** Starts a build of `stream` in a child whose main thread is done after 200 ms; how it ended. */
async function buildThenLeave(stream: string): Promise<{ exited: boolean; out: string; err: string }> {
  const script = `
    const { buildInBackground } = await import(${JSON.stringify(BUILD)});
    buildInBackground([${JSON.stringify(stream)}], (m) => console.error(m));
    setTimeout(() => console.log('main done'), 200);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += String(d)));
  child.stderr.on('data', (d: Buffer) => (err += String(d)));
  const exited = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!exited) child.kill('SIGKILL');
  return { exited, out, err };
}

describe('an index built in the background', () => {
  it('lets the process exit while it is still building (a dashboard took 85 s to end on SIGTERM)', async () => {
    // 16 GiB with no line end, sparse: reading it takes far longer than the test waits, and
    // every read returns, so only the worker's unref decides whether the process may end.
    const stream = path.join(dir, 'metrics.ndjson');
    fs.closeSync(fs.openSync(stream, 'w'));
    fs.truncateSync(stream, 16 * 2 ** 30);
    const { exited, out } = await buildThenLeave(stream);
    expect(out).toContain('main done');
    expect(exited).toBe(true);
    // Cut off before it finished: no complete index was left.
    expect(fs.existsSync(`${stream}.idx`) && fs.statSync(`${stream}.idx`).size > 4096).toBe(false);
  });

  it('never starts on a FIFO, whose open would block the worker past any exit', async () => {
    const stream = path.join(dir, 'metrics.ndjson');
    expect(spawnSync('mkfifo', [stream]).status).toBe(0);
    const { exited, out, err } = await buildThenLeave(stream);
    expect(out).toContain('main done');
    expect(exited).toBe(true);
    expect(err).toBe('');
  });

  it('reports a build whose worker cannot start (node started with a flag a worker refuses)', () => {
    const stream = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(stream, '{"step":1,"name":"loss","value":1}\n');
    const script = `
      const { buildInBackground } = await import(${JSON.stringify(BUILD)});
      await buildInBackground([${JSON.stringify(stream)}], (m) => console.error(m));`;
    const child = spawnSync(
      process.execPath,
      ['--max-semi-space-size=1', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(child.status).toBe(0);
    expect(child.stderr).toContain(`cannot index ${stream} (`);
    expect(child.stderr).toContain('it is read in full next time');
  });
});
