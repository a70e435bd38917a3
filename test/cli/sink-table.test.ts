import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sinkTable } from '../../src/cli/sink-table.js';
import { SinkHealth } from '../../src/health.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function finishedRun(up: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-sink-table-'));
  dirs.push(dir);
  const metricsOut = path.join(dir, 'metrics.ndjson');
  fs.writeFileSync(metricsOut, '{"step":0,"loss":1}\n');
  const health = new SinkHealth(() => undefined);
  for (const sink of up) health.register(sink);
  return {
    paths: { metricsOut, evalMetricsOut: [], metricsUrl: 'http://127.0.0.1:9464/metrics' },
    health,
    config: { systemMetricsInterval: 1 },
  };
}

describe('the final sink table', () => {
  it('says /metrics was served while the run lasted, not "serving <url>" after the process has exited', () => {
    const table = sinkTable(finishedRun(['prometheus', 'ndjson', 'system']));
    expect(table.text).not.toMatch(/serving/);
    expect(table.text).toMatch(
      /^prometheus\s+served\s+http:\/\/127\.0\.0\.1:9464\/metrics {2}\(while the run lasted; closed now\)$/m,
    );
  });

  it('fills the system row\'s "where" column with the interval and the sinks the samples went to', () => {
    const table = sinkTable(finishedRun(['prometheus', 'ndjson', 'system']));
    expect(table.text).toMatch(/^system\s+up\s+every 1 s, into ndjson, prometheus$/m);
    for (const row of table.rows) expect(row.detail, row.sink).not.toBe('');
  });
});
