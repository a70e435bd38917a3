/**
 * Two dashboard builds opened in turn on one folder of runs whose indexes are already there: the
 * time from starting `codex-telemetry dashboard` to the page's first complete render in chromium
 * (`body[data-ready]`, as the dashboard benches), the server's CPU time to then, and, from the
 * page's own clock, how long the page took after the index answer and after the last chart answer.
 * Each open waits for the last server to exit. Not a row of `run-all`: the folder is a set kept
 * between runs (100 runs × 100,000 steps is 27 GB), and the builds are any two `dist` folders
 * (a baseline's built aside), so a change is measured against its baseline in one run.
 *
 *   node dist/bench/open-ab.js DIR OPENS DIST_A [DIST_B ...]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchChromium, openOnce } from './dashboard-harness.js';

const USAGE = 'usage: node dist/bench/open-ab.js DIR OPENS DIST_A [DIST_B ...]';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const [dir, opensText, ...dists] = process.argv.slice(2);
const opens = Number(opensText);
if (dir === undefined || !Number.isInteger(opens) || opens < 1 || dists.length === 0) {
  process.stderr.write(
    `open-ab: give a folder, a positive number of opens and at least one dist folder\n${USAGE}\n`,
  );
  process.exit(2);
}
const clis = dists.map((dist) => path.resolve(dist, 'src/cli/codex-telemetry.js'));
for (const cli of clis)
  if (!fs.existsSync(cli)) {
    process.stderr.write(`open-ab: ${cli} not found; build that tree first (npm run build)\n`);
    process.exit(2);
  }

/** User + system CPU of a process so far, in ms (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = (fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] as string).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] as number;

/** Notes the page's clock when the dashboard marks its first render complete. */
const MARK_READY = `new MutationObserver(() => {
  if (document.body && document.body.dataset.ready === 'true' && window.readyAt === undefined) window.readyAt = performance.now();
}).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-ready'] });`;

/**
 * From the page's clock (0 at its navigation): the ready time, when it asked for the index, and the
 * ready time less the end of the index answer and of the last chart answer.
 */
const PAGE_TIMES = `(() => {
  const entries = (part) => performance.getEntriesByType('resource').filter((e) => e.name.includes(part));
  const ends = (part) => entries(part).map((e) => e.responseEnd);
  return [window.readyAt, Math.min(...entries('/api/index').map((e) => e.startTime)),
    window.readyAt - Math.min(...ends('/api/index')), window.readyAt - Math.max(...ends('/api/chart'))];
})()`;

interface Open {
  loadMs: number;
  serverCpuMs: number;
  pageReadyMs: number;
  indexAskedMs: number;
  afterIndexMs: number;
  afterLastChartMs: number;
}

const browser = await launchChromium();
const figures: Open[][] = dists.map(() => []);
const loads: number[] = [];
try {
  for (let i = 0; i < opens; i++)
    for (const [d, cli] of clis.entries()) {
      let figure: Omit<Open, 'loadMs'> | undefined;
      const { loadMs } = await openOnce(
        browser,
        dir,
        async (page, server) => {
          const serverCpuMs = cpuMs(server.pid as number);
          const [pageReadyMs, indexAskedMs, afterIndexMs, afterLastChartMs] = (await page.evaluate(
            PAGE_TIMES,
          )) as number[] as [number, number, number, number];
          figure = { serverCpuMs, pageReadyMs, indexAskedMs, afterIndexMs, afterLastChartMs };
        },
        // The page's own time of its first complete render, to set against its answers' arrival.
        // (Strings, as the benchmarks compile without DOM types.)
        {
          cli,
          beforeStart: async (page) => {
            await page.addInitScript({ content: MARK_READY });
          },
        },
      );
      (figures[d] as Open[]).push({ loadMs, ...(figure as Omit<Open, 'loadMs'>) });
      loads.push(os.loadavg()[0] as number);
    }
} finally {
  await browser.close();
}
for (const [d, dist] of dists.entries()) {
  const runs = figures[d] as Open[];
  const of = (key: keyof Open): string =>
    `${Math.round(median(runs.map((r) => r[key])))} (${runs.map((r) => Math.round(r[key])).join(' ')})`;
  process.stdout.write(
    `${dist}: first render ${of('loadMs')} ms; server CPU ${of('serverCpuMs')} ms; ` +
      `page: ready ${of('pageReadyMs')} ms after its navigation, index asked at ${of('indexAskedMs')} ms, ` +
      `index answer to ready ${of('afterIndexMs')} ms, last chart answer to ready ${of('afterLastChartMs')} ms\n`,
  );
}
process.stdout.write(
  `medians of ${opens} opens each, alternating; load average ${Math.min(...loads).toFixed(2)} to ${Math.max(...loads).toFixed(2)}\n`,
);
