/**
 * README says the dashboard draws eval over train where the names match (`loss` and eval `loss`);
 * the demo logged `eval_loss`, so that overlay never appeared on the demo README tells users to run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';
import { parseCli } from '../../src/cli/parse-cli.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { captureIo } from '../helpers/capture-io.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-demo-overlay-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the demo on the dashboard', () => {
  it("draws the demo's eval loss over its train loss on one chart, as README says", async () => {
    const parsed = parseCli([
      'demo',
      '--steps',
      '60',
      '--step-delay-ms',
      '0',
      '--eval-every',
      '20',
      '--no-prometheus',
      '--no-tensorboard',
      '--no-wandb',
      '--out',
      dir,
    ]);
    if (parsed.command !== 'demo') throw new Error(JSON.stringify(parsed));
    const captured = captureIo({ CODEX_SYSTEM_METRICS_INTERVAL: '0' });
    expect(await runDemo(parsed.options, captured.io), captured.stderr()).toBe(0);
    const dashboard = await startDashboard({ inputs: [dir], port: 0 });
    try {
      const response = await fetch(`${dashboard.url}api/chart?metric=loss&width=100`);
      expect(response.status).toBe(200);
      const chart = (await response.json()) as { series: { label: string }[] };
      expect(chart.series.map((s) => s.label.replace(/^.* · /, '')).sort()).toEqual(['eval', 'train']);
    } finally {
      await dashboard.close();
    }
  });
});
