/**
 * A finishing server's wait for open pages (LiveRuns.finish): the last rows are read and published
 * before the finished event, and a page that never hangs up holds the close for the grace only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveRuns, type Change, type Finished } from '../../src/dashboard/live-runs.js';
import { scalarLine, writeRun } from '../helpers/dashboard-runs.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-finish-grace-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function following(name: string): Promise<{ live: LiveRuns; file: string }> {
  const run = writeRun(path.join(dir, name), 10);
  // A poll period far beyond the test: only finish() reads what is appended.
  const live = new LiveRuns({ inputs: [run], pollMs: 60_000 });
  await live.start();
  return { live, file: path.join(run, '.codex', 'metrics.ndjson') };
}

describe('the end of a live run on the server', () => {
  it('publishes rows appended just before the end, then the finished event, in that order', async () => {
    const { live, file } = await following('order');
    const seen: string[] = [];
    live.subscribe((change: Change) => seen.push(`change ${change.metrics.join(',')}`));
    live.onFinished((end: Finished) => seen.push(`finished ${end.exitCode}`));
    // The last row has no newline: a writer killed mid-line still counts its last row.
    fs.appendFileSync(file, scalarLine(10, 'loss', 0.5) + scalarLine(11, 'loss', 0.4).trimEnd());
    await live.finish({ exitCode: 7 });
    live.stop();
    expect(seen).toEqual(['change loss', 'finished 7']);
    const chart = live.store.charts.get('loss');
    const train = [...(chart?.lines.values() ?? [])].find((line) => line.phase === 'train');
    expect(train?.ranks.get(0)?.points).toBe(12);
    expect(live.finished).toEqual({ exitCode: 7 });
  });

  it('closes at once when no page is open, and as soon as the last page hangs up', async () => {
    const { live } = await following('hang-up');
    const hangUp = live.clientConnected();
    live.onFinished(() => setTimeout(hangUp, 50));
    const started = Date.now();
    await live.finish({ exitCode: 0 }, 10_000);
    expect(Date.now() - started).toBeLessThan(2000);
    live.stop();
  });

  it('a page that never hangs up holds the close for the grace period only', async () => {
    const { live } = await following('stalled');
    live.clientConnected();
    const started = Date.now();
    await live.finish({ exitCode: 0 }, 400);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(390);
    expect(waited).toBeLessThan(5000);
    live.stop();
  });
});
