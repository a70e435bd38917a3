/**
 * A sink written outside the package, registered through the public API the built-in sinks use:
 * a CSV file of (stream, step, name, value), opened from the registry list.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SINKS,
  startTelemetry,
  type Row,
  type RowSink,
  type RunOutcome,
  type SinkDefinition,
} from '../../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

class CsvSink implements RowSink {
  readonly name = 'csv';
  readonly outcomes: RunOutcome[] = [];
  flushes = 0;
  private pending: string[] = [];
  constructor(readonly file: string) {}
  write(rows: readonly Row[]): void {
    for (const row of rows)
      row.names.forEach((name, i) =>
        this.pending.push(`${row.stream},${row.step},${name},${row.values[i]}\n`),
      );
  }
  async flush(): Promise<void> {
    this.flushSync();
  }
  flushSync(): void {
    this.flushes++;
    fs.appendFileSync(this.file, this.pending.splice(0).join(''));
  }
  async close(outcome: RunOutcome): Promise<void> {
    this.closeSync(outcome);
  }
  closeSync(outcome: RunOutcome): void {
    this.flushSync();
    this.outcomes.push(outcome);
  }
}

describe('a sink registered through the public registry path', () => {
  it('receives every row with its stream, flushes on commit, and gets the exit outcome at shutdown', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-custom-sink-'));
    dirs.push(outDir);
    let opened: CsvSink | undefined;
    const csvSink: SinkDefinition = {
      name: 'csv',
      enabled: (config) => config.ndjson,
      open: ({ config }) => {
        opened = new CsvSink(path.join(config.outDir, 'rows.csv'));
        return { rowSink: opened, paths: { other: { csv: opened.file } } };
      },
    };
    const telemetry = await startTelemetry(
      { outDir, systemMetricsInterval: 0, installExitHandlers: false, flushInterval: 0 },
      { env: {}, sinks: [...DEFAULT_SINKS, csvSink] },
    );
    const evaluation = telemetry.evaluation({ metricsFilename: 'val.ndjson' });
    telemetry.log({ loss: 0.5 }, { step: 1 });
    evaluation.log({ acc: 0.9 }, { step: 1 });
    telemetry.log({ loss: 0.25 }, { step: 2, commit: true });
    const csv = opened as CsvSink;
    // The commit flushes on the next tick; waited for, not timed (a loaded machine is slower).
    const deadline = Date.now() + 20_000;
    const lines = (): number =>
      fs.existsSync(csv.file) ? fs.readFileSync(csv.file, 'utf8').split('\n').length : 0;
    while (lines() < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fs.readFileSync(csv.file, 'utf8')).toBe(
      `train,1,loss,0.5\n${path.join(outDir, 'val.ndjson')},1,acc,0.9\ntrain,2,loss,0.25\n`,
    );
    expect(telemetry.paths.other).toEqual({ csv: csv.file });
    await telemetry.shutdown(143);
    expect(csv.outcomes).toEqual([{ exitCode: 143 }]);
    expect(telemetry.health.entries()).toContainEqual(['csv', true]);
  });
});

describe('a sink that breaks its contract', () => {
  it('never makes flush() or shutdown() reject: it is marked down with one warning and the others keep writing', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-broken-sink-'));
    dirs.push(outDir);
    const warnings: string[] = [];
    const broken: SinkDefinition = {
      name: 'broken',
      enabled: () => true,
      open: () => ({
        rowSink: {
          name: 'broken',
          write: () => undefined,
          flush: () => Promise.reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })),
          flushSync: () => undefined,
          close: () => Promise.reject(new Error('close exploded')),
          closeSync: () => undefined,
        },
      }),
    };
    const telemetry = await startTelemetry(
      { outDir, systemMetricsInterval: 0, installExitHandlers: false, flushInterval: 0 },
      { env: {}, sinks: [...DEFAULT_SINKS, broken], warn: (message) => warnings.push(message) },
    );
    telemetry.log({ loss: 1 });
    await expect(telemetry.flush()).resolves.toBeUndefined();
    telemetry.log({ loss: 2 });
    await expect(telemetry.flush()).resolves.toBeUndefined();
    await expect(telemetry.shutdown()).resolves.toBeUndefined();
    expect(telemetry.health.isUp('broken')).toBe(false);
    expect(warnings).toEqual([
      expect.stringMatching(/broken sink disabled: flush failed \(EIO: i\/o error, write\)/),
    ]);
    const lines = fs.readFileSync(path.join(outDir, '.codex/metrics.ndjson'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
  });
});
