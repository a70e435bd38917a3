import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readLines } from '../helpers/ndjson-lines.js';

const CHILD = fileURLToPath(new URL('../fixtures/children/exit-paths.mjs', import.meta.url));

async function runChild(
  mode: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: number }> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-exit-'));
  const child = spawn(process.execPath, [CHILD, outDir, mode], { stdio: ['ignore', 'pipe', 'ignore'] });
  if (mode === 'sigterm') {
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGTERM');
  }
  const [code, signal] = (await new Promise((resolve) => child.once('exit', (c, s) => resolve([c, s])))) as [
    number | null,
    NodeJS.Signals | null,
  ];
  const lines = readLines(path.join(outDir, '.codex/metrics.ndjson')).length;
  fs.rmSync(outDir, { recursive: true, force: true });
  return { code, signal, lines };
}

describe('exit hooks flush what the flush interval had not yet written', () => {
  it('on a drained event loop (beforeExit)', async () => {
    expect(await runChild('drain')).toEqual({ code: 0, signal: null, lines: 10_000 });
  });

  it('on process.exit(), with blocking writes', async () => {
    expect(await runChild('exit')).toEqual({ code: 0, signal: null, lines: 10_000 });
  });

  it('on an uncaught exception, keeping the non-zero exit', async () => {
    const result = await runChild('throw');
    expect(result.code).toBe(1);
    expect(result.lines).toBe(10_000);
  });

  it('on SIGTERM, then the process still dies of the signal', async () => {
    expect(await runChild('sigterm')).toEqual({ code: null, signal: 'SIGTERM', lines: 10_000 });
  });
});
