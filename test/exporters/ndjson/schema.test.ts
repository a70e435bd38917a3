import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { startTelemetry } from '../../../src/telemetry.js';

const schema = JSON.parse(
  fs.readFileSync(new URL('../../../docs/metrics.schema.json', import.meta.url), 'utf8'),
) as object;

describe('NDJSON schema v1', () => {
  it('describes every line the exporter writes: train, eval and system snapshots', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-schema-'));
    const telemetry = await startTelemetry(
      { outDir, systemMetricsInterval: 0, installExitHandlers: false, worldSize: 2, rank: 1, localRank: 1 },
      { env: {} },
    );
    telemetry.log(
      { loss: 0.5, nan: NaN, inf: Infinity, ninf: -Infinity, 'unicode/α': 1 },
      { step: 2n ** 62n },
    );
    telemetry.evaluation().log({ accuracy: 0.9 }, { step: 3 });
    telemetry.recordSystem({ ts: 1.7e9, seq: 0, values: { cpu_percent: 12.5, ram_used_bytes: 1024 } });
    await telemetry.shutdown();

    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(schema);
    const lines = ['.codex/metrics.rank1.ndjson', '.codex/eval_metrics.rank1.ndjson'].flatMap((file) =>
      fs.readFileSync(path.join(outDir, file), 'utf8').trim().split('\n'),
    );
    expect(lines).toHaveLength(7);
    for (const line of lines) {
      const ok = validate(JSON.parse(line));
      expect(validate.errors ?? [], line).toEqual([]);
      expect(ok).toBe(true);
    }
    const system = JSON.parse(lines.find((line) => line.includes('"system"')) as string) as { tags: object };
    expect(system.tags).toEqual({ phase: 'system', rank: 1, local_rank: 1, world_size: 2 });
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('rejects a line with a non-finite value spelled as a bare token or a wrong phase', () => {
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(schema);
    const base = { v: 1, ts: 1, run_id: 'r', step: 1, name: 'loss', tags: { phase: 'train' } };
    expect(validate({ ...base, value: 'nan' })).toBe(false);
    expect(validate({ ...base, value: 1, tags: { phase: 'test' } })).toBe(false);
    expect(validate({ ...base, value: 'NaN' })).toBe(true);
  });
});
