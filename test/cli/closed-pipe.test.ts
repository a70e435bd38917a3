/**
 * `codex-ndjson summarize ... | head -c 300`: the reader closes the pipe after 300 bytes, and the
 * command must stop quietly, as `cat` does, not die on an unhandled EPIPE with a stack trace.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAsync } from '../helpers/spawn-async.js';

const BIN = fileURLToPath(new URL('../../dist/src/cli/codex-ndjson.js', import.meta.url));
const built = fs.existsSync(BIN);
if (process.env.CI && !built) throw new Error('the closed-pipe test needs npm run build');

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-epipe-'));
  // Wide enough that the JSON report (about 700 KB) is far larger than a pipe's buffer.
  const lines: string[] = [];
  for (let step = 0; step < 20; step++) {
    const row: Record<string, number> = { step };
    for (let i = 0; i < 600; i++) row[`metric_${i}`] = step * 0.5 + i;
    lines.push(JSON.stringify(row));
  }
  fs.writeFileSync(path.join(dir, 'wide.ndjson'), `${lines.join('\n')}\n`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.runIf(built)('output to a closed pipe', () => {
  it('ends summarize quietly when its reader stops after 300 bytes, with no EPIPE stack trace', async () => {
    const script = `set -o pipefail; "${process.execPath}" "${BIN}" summarize wide.ndjson --format json | head -c 300 >/dev/null`;
    const result = await spawnAsync('bash', ['-c', script], { cwd: dir, timeout: 60_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
