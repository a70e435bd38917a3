import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnAsync } from '../helpers/spawn-async.js';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../fixtures/children/load.mjs', import.meta.url));
/** CODEX_LONG_TESTS=1 runs the full 10 million scalars; CI runs 2 million. */
const SCALARS = process.env.CODEX_LONG_TESTS === '1' ? 10_000_000 : 2_000_000;

function countLines(file: string): number {
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(1 << 20);
  let count = 0;
  for (let read = fs.readSync(fd, buffer); read > 0; read = fs.readSync(fd, buffer)) {
    for (let at = buffer.indexOf(10); at !== -1 && at < read; at = buffer.indexOf(10, at + 1)) count++;
  }
  fs.closeSync(fd);
  return count;
}

describe('memory under load', () => {
  it(`stays flat while ${SCALARS.toLocaleString('en')} scalars are logged`, async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-mem-'));
    const child = await spawnAsync(process.execPath, [CHILD, outDir, String(SCALARS)], { timeout: 300_000 });
    expect(child.status, child.stderr).toBe(0);
    const output = child.stdout;
    const result = JSON.parse(output) as {
      samples: Array<{ step: number; rss: number }>;
      peak: number;
      seconds: number;
    };
    const lines = countLines(path.join(outDir, '.codex/metrics.ndjson'));
    fs.rmSync(outDir, { recursive: true, force: true });
    expect(lines).toBe(SCALARS);
    const early = result.samples[1] as { rss: number };
    const late = result.samples.at(-1) as { rss: number };
    process.stderr.write(
      `memory: ${SCALARS} scalars in ${result.seconds.toFixed(1)} s, RSS ${(early.rss / 2 ** 20).toFixed(0)} MiB at 20% -> ${(late.rss / 2 ** 20).toFixed(0)} MiB at the end, peak ${(result.peak / 2 ** 20).toFixed(0)} MiB\n`,
    );
    // Flat: growth from 20% of the run to its end is bounded by buffers, not by the data volume.
    expect(late.rss - early.rss).toBeLessThan(64 * 2 ** 20);
    expect(result.peak).toBeLessThan(400 * 2 ** 20);
  });
});
