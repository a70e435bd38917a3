import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readWandbLog } from '../../../src/exporters/wandb/wandb-log-reader.js';

const CHILD = fileURLToPath(new URL('../../fixtures/wandb/children/write-forever.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../../dist/src/exporters/wandb/wandb-exporter.js', import.meta.url));

describe('a W&B run killed with SIGKILL mid-write', () => {
  it('reads back up to its last whole record, with no exit record', async () => {
    // The child imports the build: `npm test` builds first. Missing it is an error, never a skip.
    expect(fs.existsSync(BUILT), `${BUILT} is missing: run \`npm run build\` (npm test does) first`).toBe(
      true,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-wandb-kill-'));
    const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const runDir = await new Promise<string>((resolve) =>
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())),
    );
    const file = path.join(runDir, 'run-k1ll3d01.wandb');
    // Past a few 32 KiB blocks, so split records and block padding are in play when it dies.
    const deadline = Date.now() + 20_000;
    while ((fs.existsSync(file) ? fs.statSync(file).size : 0) < 400_000 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const log = readWandbLog(file, { strict: false });
    // A torn last record is the only damage a kill may leave; never a checksum error.
    if (log.damage !== undefined) expect(log.damage.kind).toBe('truncated');
    expect(log.records.length).toBeGreaterThan(1000);
    expect(log.records.map((record) => record.record.num)).toEqual(log.records.map((_, i) => String(i + 1)));
    expect(log.records.slice(0, 3).map((record) => record.type)).toEqual(['header', 'run', 'environment']);
    expect(log.records.some((record) => record.type === 'exit')).toBe(false);
    const steps = log.records
      .filter((record) => record.type === 'history')
      .map((record) => Number(record.record.history?.item?.find((item) => item.key === '_step')?.value_json));
    expect(steps).toEqual(steps.map((_, i) => i));
    expect(log.records.some((record) => record.type === 'stats')).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
