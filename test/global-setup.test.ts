import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { staleReason } from './global-setup.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function project(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-stale-'));
  dirs.push(root);
  fs.mkdirSync(path.join(root, 'src/cli'), { recursive: true });
  fs.mkdirSync(path.join(root, 'dist/src/cli'), { recursive: true });
  fs.writeFileSync(path.join(root, 'src/cli/main.ts'), 'export {};');
  fs.writeFileSync(path.join(root, 'dist/src/cli/main.js'), 'export {};');
  return root;
}

function age(file: string, secondsAgo: number): void {
  const when = new Date(Date.now() - secondsAgo * 1000);
  fs.utimesSync(file, when, when);
}

describe('the test setup rebuilds a stale dist/', () => {
  it('finds nothing to do when every compiled file is newer than every source', () => {
    const root = project();
    age(path.join(root, 'src/cli/main.ts'), 60);
    expect(staleReason(root)).toBeUndefined();
  });

  it('rebuilds when a source was edited after the build, as a spawned CLI would otherwise run old code', () => {
    const root = project();
    age(path.join(root, 'dist/src/cli/main.js'), 60);
    expect(staleReason(root)).toBe('src/cli/main.ts is newer than the build');
  });

  it('rebuilds when a source has no compiled file yet', () => {
    const root = project();
    fs.writeFileSync(path.join(root, 'src/cli/new.ts'), 'export {};');
    expect(staleReason(root)).toBe('dist/src/cli/new.js does not exist');
  });
});
