import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseLine } from '../helpers/ndjson-lines.js';

const CHILD = fileURLToPath(new URL('../fixtures/children/log-forever.mjs', import.meta.url));

describe('a training process killed with SIGKILL', () => {
  it('leaves only whole NDJSON lines, except possibly a torn last line', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-kill-'));
    const file = path.join(outDir, '.codex/metrics.ndjson');
    const child = spawn(process.execPath, [CHILD, outDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    // Let it write a few hundred kilobytes, then kill it mid-stream.
    const deadline = Date.now() + 20_000;
    while ((fs.existsSync(file) ? fs.statSync(file).size : 0) < 300_000 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const last = lines.pop() as string; // '' when the file ends with a newline
    expect(lines.length).toBeGreaterThan(1000);
    let previous = -1;
    for (const line of lines) {
      const parsed = parseLine(line);
      expect(Number(parsed.step)).toBeGreaterThanOrEqual(previous);
      previous = Number(parsed.step);
    }
    if (last !== '') expect(() => JSON.parse(last)).toThrow();
    fs.rmSync(outDir, { recursive: true, force: true });
  });
});
