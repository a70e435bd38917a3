/** The index built beside a dashboard never holds the process open once the dashboard stops. */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const BUILD = fileURLToPath(new URL('../../dist/src/run-index/build-in-background.js', import.meta.url));
const WORKER = fileURLToPath(new URL('../../dist/src/run-index/index-build-worker.js', import.meta.url));

/** A module script's lines that start building `stream` (not awaited) as `building`. */
function startBuild(stream: string, ownProcess: boolean): string {
  return `
    const { buildInBackground } = await import(${JSON.stringify(BUILD)});
    const { IndexBuildWorker } = await import(${JSON.stringify(WORKER)});
    const building = buildInBackground([${JSON.stringify(stream)}], (m) => console.error(m),
      new IndexBuildWorker({ ownProcess: ${String(ownProcess)} }));`;
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'index-background-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts a build of `stream` in a child whose main thread is done after 200 ms; how it ended, and
 * the build processes it was seen to start.
 */
async function buildThenLeave(
  stream: string,
  ownProcess = false,
): Promise<{ exited: boolean; out: string; err: string; builders: number[] }> {
  const script = `${startBuild(stream, ownProcess)}
    setTimeout(() => console.log('main done'), 200);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += String(d)));
  child.stderr.on('data', (d: Buffer) => (err += String(d)));
  const builders = new Set<number>();
  const look = setInterval(() => {
    const listed = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim();
    if (listed !== '') for (const pid of listed.split('\n')) builders.add(Number(pid));
  }, 20);
  const exited = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  clearInterval(look);
  if (!exited) child.kill('SIGKILL');
  return { exited, out, err, builders: [...builders] };
}

/** Whether process `pid` is gone within `ms`. */
async function gone(pid: number, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('an index built in the background, in a worker thread', () => {
  it('lets the process exit while it is still building (a dashboard took 85 s to end on SIGTERM)', async () => {
    // 16 GiB with no line end, sparse: reading it takes far longer than the test waits, and
    // every read returns, so only the worker's unref decides whether the process may end.
    const stream = path.join(dir, 'metrics.ndjson');
    fs.closeSync(fs.openSync(stream, 'w'));
    fs.truncateSync(stream, 16 * 2 ** 30);
    const { exited, out, builders } = await buildThenLeave(stream);
    expect(out).toContain('main done');
    expect(exited).toBe(true);
    expect(builders).toEqual([]);
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

describe('an index built in a process of its own (the first open of very many names)', () => {
  it('lets the process exit while its build process is still building, which ends with it', async () => {
    // 16 GiB with no line end, sparse: reading it takes far longer than the test waits, and
    // every read returns, so only the worker's unref decides whether the process may end.
    const stream = path.join(dir, 'metrics.ndjson');
    fs.closeSync(fs.openSync(stream, 'w'));
    fs.truncateSync(stream, 16 * 2 ** 30);
    const { exited, out, builders } = await buildThenLeave(stream, true);
    expect(out).toContain('main done');
    expect(exited).toBe(true);
    // Its build process ends with it, not left reading on its own.
    expect(builders).toHaveLength(1);
    expect(await gone(builders[0] as number, 5_000)).toBe(true);
    // Cut off before it finished: no complete index was left.
    expect(fs.existsSync(`${stream}.idx`) && fs.statSync(`${stream}.idx`).size > 4096).toBe(false);
  });

  it('reports a build whose process ends before it answers, and goes on', async () => {
    // The same endless stream: the build is still reading when its process is killed.
    const stream = path.join(dir, 'metrics.ndjson');
    fs.closeSync(fs.openSync(stream, 'w'));
    fs.truncateSync(stream, 16 * 2 ** 30);
    const script = `
      // The build process does not keep its caller alive: a timer does, until it is done.
      const alive = setInterval(() => {}, 1000);
      ${startBuild(stream, true)}
      await building;
      clearInterval(alive);
      console.log('main done');`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
    let out = '';
    let err = '';
    parent.stdout.on('data', (d: Buffer) => (out += String(d)));
    parent.stderr.on('data', (d: Buffer) => (err += String(d)));
    const exited = new Promise<number | null>((resolve) => parent.on('exit', (code) => resolve(code)));
    let builder: number | undefined;
    for (let tries = 0; builder === undefined && tries < 200; tries++) {
      await new Promise((r) => setTimeout(r, 50));
      const children = spawnSync('pgrep', ['-P', String(parent.pid)], { encoding: 'utf8' }).stdout.trim();
      builder = children === '' ? undefined : Number(children.split('\n')[0]);
    }
    expect(builder, 'the build runs in a child process of the caller').toBeDefined();
    process.kill(builder as number, 'SIGKILL');
    expect(await exited).toBe(0);
    expect(out).toContain('main done');
    expect(err).toContain(`cannot index ${stream} (the index build process exited (SIGKILL))`);
    expect(err).toContain('it is read in full next time');
  });
});
