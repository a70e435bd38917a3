/**
 * A run with very many metric names: the server lists a page of its charts and searches the rest,
 * change events stay small, and memory per name stays bounded. The size is a parameter
 * (CODEX_TEST_MANY_NAMES, default 50,000); `npm run bench -- --only=dashboard` runs a million.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_FILTER_CHARS } from '../../src/dashboard/http-handler.js';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/server.js';
import { MAX_CHANGED_NAMES, MAX_INDEX_CHARTS, SeriesStore } from '../../src/dashboard/series-store.js';

const LIVE_RUNS = fileURLToPath(new URL('../../dist/src/dashboard/live-runs.js', import.meta.url));
const NAMES = Number(process.env.CODEX_TEST_MANY_NAMES ?? 50_000);
/** Was 15.7 KB a name (every series began with room for 64 buckets). */
const MAX_BYTES_PER_NAME = 2048;

let dir: string;
let dashboard: RunningDashboard | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'many-names-'));
});
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** One row for each of `n` names, `m/name_00000` on. */
function writeNames(file: string, n: number): void {
  const lines: string[] = [];
  for (let i = 0; i < n; i++)
    lines.push(
      `{"v":1,"ts":${1.76e9 + i},"run_id":"r","step":${i},"name":"m/name_${String(i).padStart(5, '0')}","value":${i % 97},"tags":{"phase":"train"}}\n`,
    );
  fs.writeFileSync(file, lines.join(''));
}

async function getIndex(url: string): Promise<{
  status: number;
  body: { total: number; offset: number; charts: { metric: string }[] } | string;
}> {
  const response = await fetch(url);
  return {
    status: response.status,
    body: response.ok ? ((await response.json()) as never) : await response.text(),
  };
}

describe('a dashboard of very many names', () => {
  it('lists a page of its charts and searches the rest by name on the server', async () => {
    writeNames(path.join(dir, 'metrics.ndjson'), 2500);
    dashboard = await startDashboard({ inputs: [dir], port: 0 });
    const first = await getIndex(`${dashboard.url}api/index`);
    expect(first.status).toBe(200);
    const page = first.body as { total: number; charts: { metric: string }[] };
    expect(page.total).toBe(2500);
    expect(page.charts).toHaveLength(MAX_INDEX_CHARTS);
    expect(page.charts[0]?.metric).toBe('m/name_00000');
    const last = (await getIndex(`${dashboard.url}api/index?offset=2400&limit=5000`)).body as {
      offset: number;
      charts: { metric: string }[];
    };
    expect(last.offset).toBe(2400);
    expect(last.charts.map((c) => c.metric)).toEqual(
      Array.from({ length: 100 }, (_, i) => `m/name_${String(2400 + i).padStart(5, '0')}`),
    );
    const found = (await getIndex(`${dashboard.url}api/index?filter=${encodeURIComponent('NAME_0212\\d')}`))
      .body as { total: number; charts: { metric: string }[] };
    expect(found.total).toBe(10);
    expect(found.charts.map((c) => c.metric)).toEqual(
      Array.from({ length: 10 }, (_, i) => `m/name_0212${i}`),
    );
    const bad = await getIndex(`${dashboard.url}api/index?filter=${encodeURIComponent('(')}`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/^filter: "\(" is not a regular expression/);
    expect(found).toMatchObject({ searched: 2500, stopped: false });
    // The pattern's bounds: its length, and no repeated repetition (exponential on a long name).
    const longest = await getIndex(`${dashboard.url}api/index?filter=${'x'.repeat(MAX_FILTER_CHARS)}`);
    expect(longest.status).toBe(200);
    const tooLong = await getIndex(`${dashboard.url}api/index?filter=${'x'.repeat(MAX_FILTER_CHARS + 1)}`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toBe(`filter: longer than ${MAX_FILTER_CHARS} characters; give a shorter pattern\n`);
    const nested = await getIndex(`${dashboard.url}api/index?filter=${encodeURIComponent('(a+)+$')}`);
    expect(nested.status).toBe(400);
    expect(nested.body).toMatch(/^filter: "\(a\+\)\+\$" repeats a repetition/);
    const negative = await getIndex(`${dashboard.url}api/index?limit=-1`);
    expect(negative.status).toBe(400);
    expect(negative.body).toMatch(/^limit: "-1" is not a whole number of charts/);
  });

  it('stops a filtered search at its time budget and says how many names it searched', () => {
    const store = new SeriesStore();
    for (let i = 0; i < 5000; i++) store.series('r', 0, 'train', `n${String(i).padStart(4, '0')}`);
    const whole = store.index({ filter: /n\d*7$/, budgetMs: 60_000 });
    expect(whole).toMatchObject({ total: 500, searched: 5000, stopped: false });
    // A budget already spent: the walk stops at its first check (every 1024 names).
    const cut = store.index({ filter: /n\d*7$/, budgetMs: -1 });
    expect(cut).toMatchObject({ searched: 1023, stopped: true });
    expect(cut.total).toBe(102);
    // Unfiltered answers walk nothing and say nothing of a search.
    expect(store.index({ budgetMs: -1 })).not.toHaveProperty('stopped');
  });

  it('names at most MAX_CHANGED_NAMES charts in a change event, and says there were more', () => {
    const store = new SeriesStore();
    for (let i = 0; i < MAX_CHANGED_NAMES; i++) store.touch(`a${i}`);
    expect(store.takeChanges()).toEqual(expect.objectContaining({ more: false }));
    for (let i = 0; i <= MAX_CHANGED_NAMES; i++) store.touch(`a${i}`);
    expect(store.takeChanges()).toEqual({ metrics: [], structure: false, more: true });
  });

  it(`holds a run of ${NAMES.toLocaleString('en')} names in under ${MAX_BYTES_PER_NAME} bytes a name`, () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeNames(file, NAMES);
    const script = `
      const { LiveRuns } = await import(${JSON.stringify(LIVE_RUNS)});
      const used = () => { gc(); const m = process.memoryUsage(); return m.heapUsed + m.external; };
      const before = used();
      const live = new LiveRuns({ inputs: [${JSON.stringify(file)}] });
      await live.start();
      const bytes = used() - before;
      live.stop();
      console.log(JSON.stringify({ charts: live.store.charts.size, bytes }));`;
    const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(child.status, child.stderr).toBe(0);
    const { charts, bytes } = JSON.parse(child.stdout) as { charts: number; bytes: number };
    expect(charts).toBe(NAMES);
    expect(bytes / NAMES).toBeLessThan(MAX_BYTES_PER_NAME);
  });
});
