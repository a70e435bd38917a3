import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/manifest/atomic-write.js';
import { writeRunManifest } from '../../src/manifest/index.js';
import { tempDir } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A separate process that reads `file` in a tight loop until `stop` appears, and reports how many
 * reads found JSON that parsed and how many found a torn (empty or partial) file.
 */
const READER = `
const fs = require('node:fs');
const [file, stop] = process.argv.slice(1);
let whole = 0, torn = 0;
process.stdout.write('ready\\n');
while (!fs.existsSync(stop)) {
  let text;
  try { text = fs.readFileSync(file, 'utf8'); }
  catch (error) { if (error.code === 'ENOENT') continue; throw error; }
  try { JSON.parse(text); whole++; } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    if (torn++ === 0) process.stdout.write('torn\\n');
  }
}
process.stdout.write('result ' + JSON.stringify({ whole, torn }) + '\\n');
`;

interface Reader {
  result: Promise<{ whole: number; torn: number }>;
  /** True once the reader has seen a torn file. */
  sawTorn: () => boolean;
  stop: () => void;
}

async function startReader(file: string, stopFile: string): Promise<Reader> {
  const child = spawn(process.execPath, ['-e', READER, file, stopFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.startsWith('ready\n')) resolve();
    }),
  );
  const result = new Promise<{ whole: number; torn: number }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`reader exited ${code}`));
      else
        resolve(
          JSON.parse(out.slice(out.indexOf('result ') + 'result '.length)) as { whole: number; torn: number },
        );
    });
  });
  return { result, sawTorn: () => out.includes('torn\n'), stop: () => fs.writeFileSync(stopFile, '') };
}

describe('atomic manifest writes', () => {
  it('never show a concurrent reader a partial manifest across many rewrites', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const checkpoint = path.join(dir, 'ckpt.pt');
    fs.writeFileSync(checkpoint, 'weights');
    const manifest = `${checkpoint}.run_manifest.json`;
    const reader = await startReader(manifest, path.join(dir, 'stop'));
    // A large recorded variable makes each manifest span many pages, so a torn write would show.
    const env = { BIG: 'x'.repeat(256 * 1024), PYTHONHASHSEED: '0' };
    for (let step = 0; step < 200; step++) {
      expect(await writeRunManifest(checkpoint, { step, env, envKeys: ['BIG'], projectRoot: dir })).toBe(
        manifest,
      );
    }
    reader.stop();
    const { whole, torn } = await reader.result;
    expect(torn).toBe(0);
    expect(whole).toBeGreaterThan(0);
    // No temporary file is left behind.
    expect(fs.readdirSync(dir).sort()).toEqual(['ckpt.pt', 'ckpt.pt.run_manifest.json', 'stop']);
  });

  it('is a test that notices torn files: the same reader catches a plain rewrite in the act', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = path.join(dir, 'plain.json');
    const reader = await startReader(file, path.join(dir, 'stop'));
    const body = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });
    const deadline = Date.now() + 20_000;
    // writeFileSync truncates then writes: a reader can see the empty or half-written file.
    for (let i = 0; i < 5000 && !reader.sawTorn() && Date.now() < deadline; i++) {
      fs.writeFileSync(file, body);
      await new Promise((resolve) => setImmediate(resolve));
    }
    reader.stop();
    expect((await reader.result).torn).toBeGreaterThan(0);
  });

  it('leaves no temporary file and the previous content when the write fails', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const target = path.join(dir, 'sub', 'm.json');
    await expect(writeFileAtomic(target, '{}')).rejects.toMatchObject({ code: 'ENOENT' });
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(target, '{"old":true}');
    // A directory in the way of the rename: the old file stays (rename of a file onto a dir fails).
    const blocked = path.join(dir, 'sub', 'blocked');
    fs.mkdirSync(blocked);
    await expect(writeFileAtomic(blocked, '{}')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(fs.readdirSync(path.join(dir, 'sub')).sort()).toEqual(['blocked', 'm.json']);
    expect(fs.readFileSync(target, 'utf8')).toBe('{"old":true}');
  });
});
