import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry } from '../../src/telemetry.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-ckpt-'));
  dirs.push(dir);
  return dir;
}
const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('checkpointSaved', () => {
  it('writes run_manifest.json beside the checkpoint with the run id and step', async () => {
    const outDir = tmpDir();
    const telemetry = await startTelemetry(
      { outDir, systemMetricsInterval: 0, installExitHandlers: false },
      { env: { GIT_SHA: 'abc123' } },
    );
    telemetry.log({ loss: 1 }, { step: 41 });
    const checkpoint = path.join(outDir, 'ckpt/model.bin');
    fs.mkdirSync(path.dirname(checkpoint));
    fs.writeFileSync(checkpoint, 'weights');
    const manifestPath = await telemetry.checkpointSaved(checkpoint);
    await telemetry.shutdown();
    expect(manifestPath).toBeDefined();
    const manifest = JSON.parse(fs.readFileSync(manifestPath as string, 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ run_id: telemetry.config.runId, step: 41, git_sha: 'abc123' });
    expect(telemetry.paths.manifests).toEqual([manifestPath]);
  });

  it('archives the streams up to that point beside the checkpoint, closed as segments, with their sha256', async () => {
    const outDir = tmpDir();
    const telemetry = await startTelemetry(
      { outDir, systemMetricsInterval: 0, installExitHandlers: false },
      { env: {} },
    );
    const evaluation = telemetry.evaluation();
    for (let step = 0; step < 100; step++) telemetry.log({ loss: step }, { step });
    evaluation.log({ accuracy: 0.5 }, { step: 99 });
    const checkpoint = path.join(outDir, 'step-99.ckpt');
    fs.writeFileSync(checkpoint, 'weights');
    const manifestPath = await telemetry.checkpointSaved(checkpoint, { step: 99, archiveMetrics: true });
    telemetry.log({ loss: 100 }, { step: 100 }); // training goes on into a new segment
    await telemetry.shutdown();

    const manifest = JSON.parse(fs.readFileSync(manifestPath as string, 'utf8')) as {
      metrics_archive: { dir: string; files: Array<{ name?: string; path?: string; sha256: string }> };
    };
    const archiveDir = path.join(path.dirname(manifestPath as string), manifest.metrics_archive.dir);
    const archived = fs.readdirSync(archiveDir).sort();
    expect(archived).toEqual(['eval_metrics.000001.ndjson', 'metrics.000001.ndjson']);
    expect(
      fs.readFileSync(path.join(archiveDir, 'metrics.000001.ndjson'), 'utf8').trim().split('\n'),
    ).toHaveLength(100);
    const digests = manifest.metrics_archive.files.map((file) => file.sha256).sort();
    expect(digests).toEqual(archived.map((name) => sha256(path.join(archiveDir, name))).sort());
    // The live stream continued after the archive point.
    expect(
      fs.readFileSync(path.join(outDir, '.codex/metrics.ndjson'), 'utf8').trim().split('\n'),
    ).toHaveLength(1);
  });

  it('never throws when the manifest cannot be written, and training goes on', async () => {
    const outDir = tmpDir();
    const telemetry = await startTelemetry(
      { outDir, systemMetricsInterval: 0, installExitHandlers: false },
      { env: {} },
    );
    await expect(
      telemetry.checkpointSaved(path.join(outDir, 'missing/ckpt.bin'), { step: 1 }),
    ).resolves.toBeUndefined();
    expect(telemetry.log({ loss: 1 })).toBe(true);
    await telemetry.shutdown();
  });
});
