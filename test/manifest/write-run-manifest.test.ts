import { execSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeRunManifest } from '../../src/manifest/index.js';
import { captureDiag, readManifest, schemaErrors, sha256sum, tempDir } from './helpers.js';
import { requirePrerequisite } from '../helpers/require-prerequisite.js';

const hasPython3 = spawnSync('python3', ['--version']).status === 0;

const dirs: string[] = [];
function workDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function checkpointIn(dir: string, name = 'ckpt-100.pt', bytes = 4096): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.alloc(bytes, 7));
  return file;
}

describe('writeRunManifest', () => {
  it('writes every field with the types docs/run_manifest.schema.json gives them', async () => {
    const dir = workDir();
    const checkpoint = checkpointIn(dir);
    const written = await writeRunManifest(checkpoint, {
      step: 100,
      runId: 'a1b2c3d4',
      env: { GIT_SHA: 'abc123', PYTHONHASHSEED: '0' },
      projectRoot: dir,
      now: () => 1_764_334_495_123,
    });
    expect(written).toBe(`${checkpoint}.run_manifest.json`);
    const text = fs.readFileSync(written as string, 'utf8');
    expect(schemaErrors(text)).toEqual([]);
    const manifest = readManifest(written as string);
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(manifest).toMatchObject({
      schema_version: 1,
      run_id: 'a1b2c3d4',
      step: 100,
      timestamp: '2025-11-28T12:54:55.123Z',
      unix_time: 1_764_334_495.123,
      package: { name: 'codex-telemetry', version: pkg.version },
      runtime: { node: process.version },
      git_sha: 'abc123',
      lock_sha256: {},
      env: { PYTHONHASHSEED: '0' },
      checkpoint: { name: 'ckpt-100.pt', kind: 'file', size_bytes: 4096, sha256: null },
    });
    expect(manifest.runtime.python).toBeUndefined();
  });

  it('reports the platform as Python platform.platform() spells it on this machine', async (ctx) => {
    requirePrerequisite(hasPython3, 'python3 (apt-get install -y python3)', ctx.skip);
    requirePrerequisite(os.type() === 'Linux', 'Linux (Python spells other platforms its own way)', ctx.skip);
    const dir = workDir();
    const written = await writeRunManifest(checkpointIn(dir), { env: {}, projectRoot: dir });
    const { platform } = readManifest(written as string);
    expect(platform).toMatch(new RegExp(`^${os.type()}-`));
    expect(platform).toContain(os.machine());
    const python = execSync('python3 -c "import platform; print(platform.platform())"', {
      encoding: 'utf8',
    }).trim();
    expect(platform).toBe(python);
  });

  it('takes git_sha from GIT_SHA and writes null when it is unset or blank', async () => {
    const dir = workDir();
    const checkpoint = checkpointIn(dir);
    const withSha = await writeRunManifest(checkpoint, {
      env: { GIT_SHA: '0123456789abcdef' },
      projectRoot: dir,
    });
    expect(readManifest(withSha as string).git_sha).toBe('0123456789abcdef');
    const unset = await writeRunManifest(checkpoint, { env: {}, projectRoot: dir });
    expect(readManifest(unset as string).git_sha).toBeNull();
    const blank = await writeRunManifest(checkpoint, { env: { GIT_SHA: '  ' }, projectRoot: dir });
    expect(readManifest(blank as string).git_sha).toBeNull();
  });

  it('records only the reproducibility variables that are set, plus configured ones', async () => {
    const dir = workDir();
    const written = await writeRunManifest(checkpointIn(dir), {
      env: {
        CODEX_AUDIT: '1',
        CODEX_DDP: '',
        HOME: '/root',
        SECRET_TOKEN: 'do-not-record',
        WORLD_SIZE: '8',
        SEED: '42',
        CODEX_MANIFEST_ENV: 'SEED, MISSING_TOO',
      },
      envKeys: ['WORLD_SIZE', 'NOT_SET'],
      projectRoot: dir,
    });
    // An empty CODEX_DDP is set (to ""), so it is recorded; unset names never appear.
    expect(readManifest(written as string).env).toEqual({
      CODEX_AUDIT: '1',
      CODEX_DDP: '',
      WORLD_SIZE: '8',
      SEED: '42',
    });
  });

  it('names the Python runtime from the option or CODEX_PYTHON_VERSION, never by asking python', async () => {
    const dir = workDir();
    const checkpoint = checkpointIn(dir);
    const fromEnv = await writeRunManifest(checkpoint, {
      env: { CODEX_PYTHON_VERSION: '3.12.1' },
      projectRoot: dir,
    });
    expect(readManifest(fromEnv as string).runtime).toEqual({ node: process.version, python: '3.12.1' });
    const fromOption = await writeRunManifest(checkpoint, {
      env: { CODEX_PYTHON_VERSION: '3.12.1' },
      pythonVersion: '3.11.7',
      projectRoot: dir,
    });
    expect(readManifest(fromOption as string).runtime.python).toBe('3.11.7');
  });

  it('writes an int64 step beyond 2^53 as its exact digits', async () => {
    const dir = workDir();
    const written = await writeRunManifest(checkpointIn(dir), {
      step: 2n ** 63n - 1n,
      env: {},
      projectRoot: dir,
    });
    const text = fs.readFileSync(written as string, 'utf8');
    expect(text).toContain('"step": 9223372036854775807,');
    expect(schemaErrors(text)).toEqual([]);
  });

  it('hashes the checkpoint only when asked, with the digest sha256sum prints', async () => {
    const dir = workDir();
    const checkpoint = checkpointIn(dir, 'model.safetensors', 3 * 1024 * 1024 + 17);
    const plain = await writeRunManifest(checkpoint, { env: {}, projectRoot: dir });
    expect(readManifest(plain as string).checkpoint.sha256).toBeNull();
    const hashed = await writeRunManifest(checkpoint, { sha256: true, env: {}, projectRoot: dir });
    expect(readManifest(hashed as string).checkpoint).toEqual({
      name: 'model.safetensors',
      kind: 'file',
      size_bytes: 3 * 1024 * 1024 + 17,
      sha256: sha256sum(checkpoint),
    });
  });

  it('describes a checkpoint folder from inside it, leaving its own manifest out of size and digest', async () => {
    const dir = workDir();
    const folder = path.join(dir, 'checkpoint-200');
    fs.mkdirSync(path.join(folder, 'optimizer'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'model.bin'), Buffer.alloc(1000, 1));
    fs.writeFileSync(path.join(folder, 'optimizer', 'state.bin'), Buffer.alloc(500, 2));
    const first = await writeRunManifest(folder, { sha256: true, env: {}, projectRoot: dir });
    expect(first).toBe(path.join(folder, 'run_manifest.json'));
    // Written a second time, the first manifest is inside the folder and must not count.
    const second = await writeRunManifest(folder, { sha256: true, env: {}, projectRoot: dir });
    const expected = execSync(
      'find . -type f ! -name run_manifest.json | sort | xargs sha256sum | sha256sum',
      {
        cwd: folder,
        encoding: 'utf8',
      },
    ).split(' ')[0];
    expect(readManifest(second as string).checkpoint).toEqual({
      name: 'checkpoint-200',
      kind: 'directory',
      size_bytes: 1500,
      file_count: 2,
      sha256: expected,
    });
    expect(schemaErrors(fs.readFileSync(second as string, 'utf8'))).toEqual([]);
  });

  it('returns undefined with one debug line when the checkpoint does not exist', async () => {
    const dir = workDir();
    const diagLines = captureDiag();
    try {
      await expect(writeRunManifest(path.join(dir, 'missing.pt'), { env: {} })).resolves.toBeUndefined();
    } finally {
      diagLines.stop();
    }
    expect(diagLines.lines, diagLines.lines.join('\n')).toHaveLength(1);
    expect(diagLines.lines[0]).toContain('missing.pt');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('returns undefined without throwing when the checkpoint path runs through a regular file', async () => {
    const dir = workDir();
    const file = checkpointIn(dir, 'not-a-dir');
    await expect(writeRunManifest(path.join(file, 'ckpt.pt'), { env: {} })).resolves.toBeUndefined();
  });

  it('returns undefined without throwing when the manifest folder cannot be written (/proc)', async (ctx) => {
    requirePrerequisite(fs.existsSync('/proc/version'), '/proc', ctx.skip);
    const diagLines = captureDiag();
    try {
      await expect(writeRunManifest('/proc/version', { env: {} })).resolves.toBeUndefined();
    } finally {
      diagLines.stop();
    }
    expect(diagLines.lines, diagLines.lines.join('\n')).toHaveLength(1);
    expect(diagLines.lines[0]).toMatch(/\/proc\/version/);
  });

  it('returns undefined for a step that is not an int64 integer', async () => {
    const dir = workDir();
    await expect(
      writeRunManifest(checkpointIn(dir), { step: 1.5, env: {}, projectRoot: dir }),
    ).resolves.toBeUndefined();
    await expect(
      writeRunManifest(checkpointIn(dir), { step: 2n ** 63n, env: {}, projectRoot: dir }),
    ).resolves.toBeUndefined();
  });

  it('keeps one manifest per checkpoint file in a shared folder', async () => {
    const dir = workDir();
    const a = await writeRunManifest(checkpointIn(dir, 'ckpt-1.pt'), { step: 1, env: {}, projectRoot: dir });
    const b = await writeRunManifest(checkpointIn(dir, 'ckpt-2.pt'), { step: 2, env: {}, projectRoot: dir });
    expect(readManifest(a as string).step).toBe(1);
    expect(readManifest(b as string).step).toBe(2);
  });
});
