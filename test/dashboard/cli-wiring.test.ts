/** `--dashboard` on demo: the page and its API on the /metrics server, under `/`. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/parse-cli.js';

const CLI = path.resolve(import.meta.dirname, '../../dist/src/cli/codex-telemetry.js');

describe('--dashboard on demo, run and tail', () => {
  it('is refused with --no-prometheus, whose server it needs', () => {
    expect(parseCli(['demo', '--dashboard', '--no-prometheus'])).toMatchObject({ command: 'usage-error' });
    expect(parseCli(['tail', '--follow', '--dashboard', 'x.ndjson'])).toMatchObject({
      command: 'tail',
      options: { dashboard: true },
    });
  });

  it('serves the page, its charts and /metrics from one port while the demo runs', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-dash-demo-'));
    const child = spawn(
      process.execPath,
      [
        CLI,
        'demo',
        '--dashboard',
        '--out',
        out,
        '--prometheus-port',
        '0',
        '--steps',
        '40',
        '--serve',
        '30',
        '--no-wandb',
        '--no-tensorboard',
        '--system-metrics-interval',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let seen = '';
      const urls = await new Promise<[string, string]>((resolve, reject) => {
        child.stdout.on('data', (data: Buffer) => {
          seen += String(data);
          const metrics = /metrics: (\S+)/.exec(seen)?.[1];
          const page = /dashboard: (\S+)/.exec(seen)?.[1];
          if (metrics !== undefined && page !== undefined) resolve([metrics, page]);
        });
        child.once('exit', (code) => reject(new Error(`demo exited (${code}): ${seen}`)));
      });
      const [metricsUrl, pageUrl] = urls;
      expect(new URL(pageUrl).port).toBe(new URL(metricsUrl).port);
      const page = await fetch(pageUrl);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await page.text()).toContain('<main id="dashboard">');
      expect((await fetch(metricsUrl)).status).toBe(200);
      // The demo's train and eval streams reach the dashboard (new streams are looked for every 2 s).
      const deadline = Date.now() + 20_000;
      let metrics: string[] = [];
      // All three: the eval stream alone has loss and accuracy, and may be read before the train stream.
      const wanted = ['loss', 'lr', 'accuracy'];
      while (Date.now() < deadline && !wanted.every((metric) => metrics.includes(metric))) {
        const index = (await (await fetch(new URL('api/index', pageUrl))).json()) as {
          charts: { metric: string }[];
        };
        metrics = index.charts.map((c) => c.metric);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(metrics).toEqual(expect.arrayContaining(wanted));
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
