import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTelemetry } from '../../src/telemetry.js';
import { readLines } from '../helpers/ndjson-lines.js';

describe('scalar-name cardinality', () => {
  it('reports names beyond maxScalarNames (warning + counter) instead of folding them silently; files keep all', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-card-'));
    const warnings: string[] = [];
    const telemetry = await startTelemetry(
      {
        outDir,
        systemMetricsInterval: 0,
        installExitHandlers: false,
        prometheus: true,
        prometheusPort: 0,
        maxScalarNames: 5,
      },
      { env: {}, warn: (message) => warnings.push(message), info: () => undefined },
    );
    for (let step = 0; step < 3; step++) {
      const values: Record<string, number> = {};
      for (let i = 0; i < 10; i++) values[`metric_${i}`] = step * 10 + i;
      telemetry.log(values, { step });
    }
    const body = await (await fetch(telemetry.paths.metricsUrl as string)).text();
    await telemetry.shutdown();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('maxScalarNames=5');
    expect(body).toMatch(/^codex_scalar_names_dropped_total 5$/m);
    for (let i = 0; i < 5; i++)
      expect(body).toMatch(new RegExp(`^metric_${i}\\{phase="train"\\} ${20 + i}$`, 'm'));
    for (let i = 5; i < 10; i++) expect(body).not.toContain(`metric_${i}{`);
    expect(body).not.toMatch(/step="/);
    expect(readLines(path.join(outDir, '.codex/metrics.ndjson'))).toHaveLength(30);
    fs.rmSync(outDir, { recursive: true, force: true });
  });
});
