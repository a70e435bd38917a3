import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeRunManifest } from '../../src/manifest/index.js';
import { lockDigests } from '../../src/manifest/lock-digests.js';
import { readManifest, sha256sum, tempDir } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('lock file digests', () => {
  it('equal sha256sum for each lock file present, keyed by file name', async () => {
    const root = tempDir();
    dirs.push(root);
    const contents: Record<string, string> = {
      'uv.lock': 'version = 1\n[[package]]\nname = "torch"\nversion = "2.5.1"\n',
      'package-lock.json': fs.readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8'),
      'yarn.lock': '# yarn lockfile v1\n\n"left-pad@^1.3.0":\n  version "1.3.0"\n',
    };
    for (const [name, text] of Object.entries(contents)) fs.writeFileSync(path.join(root, name), text);
    const expected = Object.fromEntries(
      Object.keys(contents).map((name) => [name, sha256sum(path.join(root, name))]),
    );

    expect(await lockDigests(root)).toEqual(expected);
    fs.writeFileSync(path.join(root, 'ckpt.pt'), 'weights');
    const written = await writeRunManifest(path.join(root, 'ckpt.pt'), { env: {}, projectRoot: root });
    expect(readManifest(written as string).lock_sha256).toEqual(expected);
  });

  it('covers uv.lock.json and pnpm-lock.yaml, and is empty when the root has no lock file', async () => {
    const root = tempDir();
    dirs.push(root);
    expect(await lockDigests(root)).toEqual({});
    fs.writeFileSync(path.join(root, 'uv.lock.json'), '{"version": 1}');
    fs.writeFileSync(path.join(root, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
    expect(await lockDigests(root)).toEqual({
      'uv.lock.json': sha256sum(path.join(root, 'uv.lock.json')),
      'pnpm-lock.yaml': sha256sum(path.join(root, 'pnpm-lock.yaml')),
    });
  });

  it('defaults the project root to the working directory', async () => {
    const dir = tempDir();
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, 'ckpt.pt'), 'weights');
    const written = await writeRunManifest(path.join(dir, 'ckpt.pt'), { env: {} });
    // vitest runs from the repository root, which has package-lock.json.
    expect(readManifest(written as string).lock_sha256['package-lock.json']).toBe(
      sha256sum(path.join(process.cwd(), 'package-lock.json')),
    );
  });
});
