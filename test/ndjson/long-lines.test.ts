/**
 * One maximum line length (default 1 MiB; --max-line-bytes, CODEX_MAX_LINE_BYTES) for every
 * reader: summarize, the bridge, the dashboard's follower and backlog reader. A longer line is one
 * malformed line with file and line number, the rows around it are kept, and every reader gives
 * the same verdict on the same file.
 */
import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readMetricRecords } from '../../src/ndjson/read-metric-records.js';
import { StreamFollower } from '../../src/ndjson/stream-follower.js';
import { LineProcessor } from '../../src/ndjson/line/line-processor.js';
import { NameTable } from '../../src/ndjson/line/name-table.js';
import type { MetricVisitor } from '../../src/ndjson/line/metric-visitor.js';
import { summarizeCommand } from '../../src/summarize/index.js';
import { spawnAsync } from '../helpers/spawn-async.js';
import { runSummarize } from '../cli/summarize/run-command.js';

const BIN = fileURLToPath(new URL('../../dist/src/cli/codex-telemetry.js', import.meta.url));
const MIB = 1 << 20;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const row = (step: number): string =>
  `{"v":1,"ts":1700000000,"run_id":"r1","step":${step},"name":"loss","value":${step + 1},"tags":{"phase":"train"}}\n`;

/** Lines 1 and 3 are rows; line 2 is `longBytes` long (valid JSON, but past the limit). */
function streamWithLongLine(longBytes: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-long-'));
  dirs.push(dir);
  const file = path.join(dir, 'metrics.ndjson');
  const filler = '{"name":"' + 'x'.repeat(longBytes - 12) + '"}\n';
  fs.writeFileSync(file, row(0) + filler + row(1));
  return file;
}

interface Verdict {
  rows: number;
  malformed: Array<{ line: number; reason: string }>;
}

function recordingVisitor(verdict: Verdict): MetricVisitor {
  return {
    malformed: (fault) => verdict.malformed.push({ line: fault.line, reason: fault.reason }),
    scalar: () => {
      verdict.rows++;
    },
  };
}

describe('long lines', () => {
  it('line length has no bound, and the readers disagree about long lines: no longer, every reader reports one malformed line 2 and keeps both rows', async () => {
    const file = streamWithLongLine(3 * MIB);
    const expected = 'longer than 1048576 bytes; skipped';

    const summary = await runSummarize([file]);
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stderr).toContain(`${file}:2: line: ${expected}`);
    expect(summary.stdout).toMatch(/steps\s+train 0\.\.1/);

    const tail = await spawnAsync(
      process.execPath,
      [
        BIN,
        'tail',
        '--from-start',
        '--out',
        path.dirname(file),
        '--no-prometheus',
        '--no-tensorboard',
        '--no-wandb',
        file,
      ],
      { timeout: 60_000 },
    );
    expect(tail.status, tail.stderr).toBe(0);
    expect(tail.stderr).toContain(`${file}:2: field "line" ${expected}`);
    expect(tail.stdout + tail.stderr).toMatch(/3 lines, 2 rows replayed, 1 malformed/);

    // The dashboard's backlog reader (small chunks, as its worker ranges read) and its follower.
    const backlog: Verdict = { rows: 0, malformed: [] };
    const tables = { names: new NameTable(), runs: new NameTable() };
    await readMetricRecords(file, recordingVisitor(backlog), tables, { chunkBytes: 64 * 1024 });
    expect(backlog.malformed).toEqual([{ line: 2, reason: expected }]);

    const followed: Verdict = { rows: 0, malformed: [] };
    const processor = new LineProcessor(recordingVisitor(followed), new NameTable(), new NameTable());
    const follower = new StreamFollower({
      path: file,
      fromStart: true,
      onLines: ({ buf, end, fileOffset }) => processor.completeLines(buf, end, fileOffset),
      onTooLong: (_file, offset, limit) => processor.tooLong(offset, limit),
    });
    while ((await follower.poll()) > 0);
    await follower.close();
    expect(followed.malformed).toEqual([{ line: 2, reason: expected }]);
    expect(processor.lines).toBe(3);
  }, 120_000);

  it('the dashboard command says once that the long line was skipped', async () => {
    const file = streamWithLongLine(MIB + 100);
    const child = spawn(process.execPath, [BIN, 'dashboard', file, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    try {
      // The URL may come before the read: wait for the line's report itself.
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (/:2: line: .*\n/.test(stderr)) resolve();
        });
        child.on('exit', (code) => reject(new Error(`dashboard exited ${code}: ${stderr}`)));
      });
    } finally {
      child.kill('SIGTERM');
    }
    // Its reason already ends "skipped"; the line must not say it twice.
    expect(stderr).toContain(`dashboard: ${file}:2: line: longer than ${MIB} bytes; skipped\n`);
  }, 60_000);

  it('takes its limit from --max-line-bytes and CODEX_MAX_LINE_BYTES, and refuses one outside 1024..2^30', async () => {
    const file = streamWithLongLine(3000);
    expect((await runSummarize([file])).stderr).not.toMatch(/longer than/);
    expect((await runSummarize([file, '--max-line-bytes', '2048'])).stderr).toContain(
      `${file}:2: line: longer than 2048 bytes; skipped`,
    );
    process.env.CODEX_MAX_LINE_BYTES = '2048';
    try {
      expect((await runSummarize([file])).stderr).toContain('longer than 2048 bytes');
    } finally {
      delete process.env.CODEX_MAX_LINE_BYTES;
    }
    const refused = await runSummarize([file, '--max-line-bytes', '10']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--max-line-bytes 10 must be a whole number of bytes from 1024/);
  });

  it('keeps a stream that never ends a line bounded: a 64 MiB line on stdin is copied as 1 MiB and reported once', async () => {
    const chunk = Buffer.alloc(MIB, 0x78);
    let sent = 0;
    const stdin = new Readable({
      read() {
        if (sent < 64) {
          sent++;
          this.push(chunk);
        } else if (sent === 64) {
          sent++;
          this.push(`\n${row(7)}`);
        } else this.push(null);
      },
    });
    const out: string[] = [];
    const err: string[] = [];
    const sink = (into: string[]): Writable =>
      new Writable({
        write(data: Buffer, _encoding, callback) {
          into.push(data.toString());
          callback();
        },
      });
    const before = process.memoryUsage().rss;
    const code = await summarizeCommand(['-'], {
      stdout: sink(out),
      stderr: sink(err),
      stdin,
      isTTY: false,
      env: process.env,
    });
    expect(code).toBe(0);
    expect(err.join('')).toContain('<stdin>:1: line: longer than 1048576 bytes; skipped');
    expect(out.join('')).toMatch(/steps\s+train 7\.\.7/);
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * MIB);
  });
});
