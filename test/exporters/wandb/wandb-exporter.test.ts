import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { TelemetryError } from '../../../src/errors.js';
import type { StepRow } from '../../../src/step.js';
import { SinkHealth } from '../../../src/health.js';
import type { KeyedItem } from '../../../src/formats/wandb/record-types.js';
import type { ReadRecord } from '../../../src/exporters/wandb/wandb-log-reader.js';
import { readWandbLog } from '../../helpers/checked-readers.js';
import { WandbExporter, type WandbExporterOptions } from '../../../src/exporters/wandb/wandb-exporter.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-wandb-'));
  dirs.push(dir);
  return dir;
}

const START = 1_735_689_600; // 2025-01-01T00:00:00Z

function exporter(options: Partial<WandbExporterOptions> = {}): { wandb: WandbExporter; warnings: string[] } {
  const warnings: string[] = [];
  const wandb = new WandbExporter({
    dir: options.dir ?? path.join(tmpDir(), 'wandb'),
    runId: 'abc12345',
    project: 'proj',
    startTime: START,
    health: new SinkHealth((message) => warnings.push(message)),
    hostname: 'test-host',
    now: () => START + 42.4,
    ...options,
  });
  return { wandb, warnings };
}

/** Hands rows to the sink the way the pipeline does (each row names its stream). */
function exportRows(wandb: WandbExporter, rows: StepRow[]): void {
  wandb.write(rows.map((row) => ({ ...row, stream: row.phase })));
}

const items = (list: KeyedItem[] | undefined): Record<string, string> =>
  Object.fromEntries(
    (list ?? []).map((item) => [item.key ?? (item.nested_key ?? []).join('.'), item.value_json ?? '']),
  );
const ofType = (records: ReadRecord[], type: string): ReadRecord[] =>
  records.filter((record) => record.type === type);

describe('WandbExporter', () => {
  it('writes 10,000 train steps with eval and system stats that read back row for row', async () => {
    const { wandb } = exporter({ config: { lr: 3e-4, optimizer: { name: 'adamw' } }, tags: ['otel'] });
    const rows: StepRow[] = [];
    let expectedStats = 0;
    for (let step = 0; step < 10_000; step++) {
      const ts = START + 1 + step * 0.01;
      rows.push({
        phase: 'train',
        step,
        ts,
        names: ['loss', 'lr'],
        values: [1 / (step + 1), step % 7 === 0 ? NaN : 3e-4],
      });
      if (step % 100 === 99)
        rows.push({ phase: 'eval', step, ts, names: ['accuracy'], values: [step / 1e4] });
      if (step % 10 === 0) {
        rows.push({
          phase: 'system',
          step,
          ts,
          names: ['proc_cpu_percent', 'ram_percent', 'disk_used_bytes', 'gpu_0_util_percent', 'cpu_percent'],
          values: [12.5, 41.2, 2 ** 31, step % 100, 50],
        });
        expectedStats++;
      }
      // Export in batches, as the reader's collections would.
      if (step % 1000 === 999) exportRows(wandb, rows.splice(0));
    }
    await wandb.close({ exitCode: 0 });

    const log = readWandbLog(path.join(wandb.runDir, 'run-abc12345.wandb'));
    expect(log.records.map((record) => record.record.num)).toEqual(log.records.map((_, i) => String(i + 1)));
    expect(log.records.slice(0, 3).map((record) => record.type)).toEqual(['header', 'run', 'environment']);
    expect(log.records.slice(-2).map((record) => record.type)).toEqual(['exit', 'final']);

    const run = log.records[1]!.record.run!;
    expect(run).toMatchObject({ run_id: 'abc12345', project: 'proj', tags: ['otel'], host: 'test-host' });
    expect(run.start_time).toBe('2025-01-01T00:00:00Z');
    expect(items(run.config?.update)).toEqual({ lr: '0.0003', optimizer: '{"name":"adamw"}', _wandb: '{}' });

    const history = ofType(log.records, 'history');
    expect(history).toHaveLength(10_000);
    for (const [step, record] of history.entries()) {
      const row = items(record.record.history?.item);
      const ts = START + 1 + step * 0.01;
      expect(row._step).toBe(String(step));
      expect(Number(row._runtime)).toBeCloseTo(ts - START, 6);
      expect(Number(row._timestamp)).toBeCloseTo(ts, 6);
      expect(row.loss).toBe(String(1 / (step + 1)));
      expect(row.lr).toBe(step % 7 === 0 ? 'NaN' : '0.0003');
      expect(row['eval/accuracy']).toBe(step % 100 === 99 ? String(step / 1e4) : undefined);
      expect(record.record.history?.step?.num).toBe(step === 0 ? undefined : String(step));
    }

    const stats = ofType(log.records, 'stats');
    expect(stats).toHaveLength(expectedStats);
    for (const [i, record] of stats.entries()) {
      expect(items(record.record.stats?.item)).toEqual({
        cpu: '12.5',
        memory_percent: '41.2',
        'disk./.usageGB': '2',
        'gpu.0.gpu': String((i * 10) % 100),
        cpu_percent: '50',
      });
    }
    expect(stats[1]!.record.stats?.timestamp).toBe('2025-01-01T00:00:01.100Z');

    const summaries = ofType(log.records, 'summary');
    const finalSummary = items(summaries.at(-1)?.record.summary?.update);
    expect(finalSummary).toMatchObject({
      _step: '9999',
      loss: String(1 / 10_000),
      'eval/accuracy': '0.9999',
    });
    expect(log.records.at(-2)?.record.exit).toEqual({ runtime: 42 });
  });

  it('lays out the run directory as wandb sync expects, with latest-run and the side files', async () => {
    const dir = path.join(tmpDir(), 'wandb');
    const { wandb } = exporter({ dir, config: { lr: 0.001, optimizer: { name: 'adamw' } } });
    exportRows(wandb, [{ phase: 'train', step: 0, ts: START + 1, names: ['loss'], values: [-Infinity] }]);
    await wandb.close({ exitCode: 0 });

    expect(path.basename(wandb.runDir)).toMatch(/^offline-run-\d{8}_\d{6}-abc12345$/);
    expect(fs.readlinkSync(path.join(dir, 'latest-run'))).toBe(path.basename(wandb.runDir));
    for (const sub of ['files', 'logs', 'tmp/code'])
      expect(fs.statSync(path.join(wandb.runDir, sub)).isDirectory()).toBe(true);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const files = path.join(wandb.runDir, 'files');
    expect(YAML.parse(fs.readFileSync(path.join(files, 'config.yaml'), 'utf8'))).toEqual({
      _wandb: { value: {} },
      lr: { value: 0.001 },
      optimizer: { value: { name: 'adamw' } },
    });
    expect(fs.readFileSync(path.join(files, 'wandb-summary.json'), 'utf8')).toBe(
      '{"_step": 0, "_runtime": 1, "_timestamp": 1735689601, "loss": -Infinity, "_wandb": {"runtime": 42}}',
    );
    const metadata = JSON.parse(fs.readFileSync(path.join(files, 'wandb-metadata.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(metadata).toMatchObject({ host: 'test-host', startedAt: '2025-01-01T00:00:00.000000Z' });
  });

  it('writes the exit code it was given, for runs ended by a signal or an uncaught error', async () => {
    const { wandb } = exporter();
    await wandb.close({ exitCode: 143 });
    await wandb.close({ exitCode: 0 });
    const log = readWandbLog(path.join(wandb.runDir, 'run-abc12345.wandb'));
    expect(ofType(log.records, 'exit').map((record) => record.record.exit)).toEqual([
      { exit_code: 143, runtime: 42 },
    ]);
  });

  it('a run killed before its first flush still holds its run record, so wandb sync can read it', () => {
    const { wandb } = exporter();
    // No flush, no close: what is on disk right after the constructor is what a SIGKILL leaves.
    const log = readWandbLog(path.join(wandb.runDir, 'run-abc12345.wandb'));
    expect(log.records.map((record) => record.type)).toEqual(['header', 'run', 'environment', 'files']);
  });

  it('ends the run synchronously with closeSync at process exit', () => {
    const { wandb } = exporter();
    exportRows(wandb, [{ phase: 'train', step: 3, ts: START + 1, names: ['loss'], values: [1] }]);
    wandb.closeSync({ exitCode: 1 });
    const log = readWandbLog(path.join(wandb.runDir, 'run-abc12345.wandb'));
    expect(log.records.map((record) => record.type)).toEqual([
      'header',
      'run',
      'environment',
      'files',
      'history',
      'summary',
      'exit',
      'final',
    ]);
    expect(log.records.at(-2)?.record.exit).toEqual({ exit_code: 1, runtime: 42 });
  });

  it('keeps history steps from going backwards: a late eval row lands at the last step with its own step in eval/step', async () => {
    const { wandb } = exporter();
    exportRows(wandb, [
      { phase: 'train', step: 100, ts: START + 1, names: ['loss'], values: [0.5] },
      { phase: 'eval', step: 100, ts: START + 2, names: ['loss'], values: [0.7] },
      { phase: 'eval', step: 50, ts: START + 3, names: ['acc'], values: [0.9] },
      { phase: 'train', step: 101, ts: START + 4, names: ['loss'], values: [0.4] },
      { phase: 'train', step: 2n ** 63n - 1n, ts: START + 5, names: ['loss'], values: [0.3] },
    ]);
    await wandb.close({ exitCode: 0 });
    const history = ofType(readWandbLog(path.join(wandb.runDir, 'run-abc12345.wandb')).records, 'history');
    const rows = history.map((record) => items(record.record.history?.item));
    expect(rows.map((row) => row._step)).toEqual(['100', '101', '9223372036854775807']);
    expect(rows[0]).toMatchObject({
      loss: '0.5',
      'eval/loss': '0.7',
      'eval/acc': '0.9',
      'eval/step': '50',
      _timestamp: String(START + 3),
    });
    expect(history[2]!.record.history?.step?.num).toBe('9223372036854775807');
  });

  it('writes steps 2^62, 2^62+1 and 2^62+2, which differ only past 2^53, as three history rows', async () => {
    const { wandb } = exporter();
    const base = 2n ** 62n;
    exportRows(
      wandb,
      [0n, 1n, 2n].map((offset, i) => ({
        phase: 'train' as const,
        step: base + offset,
        ts: START + 1 + i,
        names: ['loss'],
        values: [i],
      })),
    );
    await wandb.close({ exitCode: 0 });
    const history = ofType(readWandbLog(path.join(wandb.runDir, 'run-abc12345.wandb')).records, 'history');
    expect(history.map((record) => items(record.record.history?.item)._step)).toEqual([
      '4611686018427387904',
      '4611686018427387905',
      '4611686018427387906',
    ]);
    expect(history.map((record) => record.record.history?.step?.num)).toEqual([
      '4611686018427387904',
      '4611686018427387905',
      '4611686018427387906',
    ]);
  });

  it('writes the held row and a summary update at each flush, and no summary when nothing changed', async () => {
    const { wandb } = exporter();
    exportRows(wandb, [{ phase: 'train', step: 7, ts: START + 1, names: ['loss'], values: [0.25] }]);
    expect(wandb.recordCount).toBe(4);
    await wandb.flush();
    expect(wandb.recordCount).toBe(6);
    await wandb.flush();
    expect(wandb.recordCount).toBe(6);
    const records = readWandbLog(path.join(wandb.runDir, 'run-abc12345.wandb')).records;
    expect(records.slice(4).map((record) => record.type)).toEqual(['history', 'summary']);
    expect(items(records[5]!.record.summary?.update)).toMatchObject({
      loss: '0.25',
      _step: '7',
      _wandb: '{"runtime":1}',
    });
    await wandb.close({ exitCode: 0 });
  });

  it('writes non-finite values bare and keys with lone surrogates as valid UTF-8', async () => {
    const { wandb } = exporter();
    exportRows(wandb, [
      {
        phase: 'train',
        step: 1,
        ts: START + 1,
        names: ['nan', 'inf', 'ninf', 'bad\ud800key', 'ключ'],
        values: [NaN, Infinity, -Infinity, 1, 2],
      },
    ]);
    await wandb.close({ exitCode: 0 });
    const bytes = fs.readFileSync(path.join(wandb.runDir, 'run-abc12345.wandb'));
    // The lone surrogate became U+FFFD (EF BF BD), never the invalid CESU-8 bytes ED A0 80.
    expect(bytes.includes(Buffer.from('bad\ufffdkey', 'utf8'))).toBe(true);
    expect(bytes.includes(Buffer.of(0xed, 0xa0, 0x80))).toBe(false);
    const row = items(ofType(readWandbLog(bytes).records, 'history')[0]!.record.history?.item);
    expect(row).toMatchObject({
      nan: 'NaN',
      inf: 'Infinity',
      ninf: '-Infinity',
      'bad\ufffdkey': '1',
      ключ: '2',
    });
  });

  it('reports an unwritable directory once, writes nothing and never throws', async () => {
    const parent = tmpDir();
    fs.writeFileSync(path.join(parent, 'not-a-dir'), '');
    const health = new SinkHealth((message) => warnings.push(message));
    const warnings: string[] = [];
    const wandb = new WandbExporter({
      dir: path.join(parent, 'not-a-dir', 'wandb'),
      runId: 'abc12345',
      startTime: START,
      health,
    });
    expect(health.isUp('wandb')).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/wandb sink disabled: cannot create .*not-a-dir.*ENOTDIR/);
    exportRows(wandb, [{ phase: 'train', step: 1, ts: START, names: ['x'], values: [1] }]);
    expect(wandb.recordCount).toBe(0);
    await wandb.flush();
    wandb.flushSync();
    await wandb.close({ exitCode: 0 });
    expect(warnings).toHaveLength(1);
  });

  it('rejects a run id W&B would not accept', () => {
    expect(() => exporter({ runId: 'Not-An-Id' })).toThrow(TelemetryError);
  });

  it('refuses to append to an existing run log rather than interleave two runs', () => {
    const dir = path.join(tmpDir(), 'wandb');
    const first = exporter({ dir });
    first.wandb.closeSync({ exitCode: 0 });
    const second = exporter({ dir });
    expect(second.warnings[0]).toMatch(/already exists; use a new run id/);
    expect(readWandbLog(path.join(first.wandb.runDir, 'run-abc12345.wandb')).records.at(-1)?.type).toBe(
      'final',
    );
  });
});
