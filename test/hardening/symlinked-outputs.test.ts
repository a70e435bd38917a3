/**
 * Files we create are opened with O_NOFOLLOW (and O_EXCL where we create them): a symlink planted
 * at an output path is refused with an error that names it, and its target is never touched.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry } from '../../src/telemetry.js';
import { AppendFile } from '../../src/exporters/file/append-file.js';
import { SinkHealth } from '../../src/health.js';
import { runSummarize } from '../cli/summarize/run-command.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-link-'));
  dirs.push(dir);
  return dir;
}

/** A victim file and a symlink to it at `at`. */
function plantLink(at: string): string {
  const victim = path.join(path.dirname(at), 'victim.txt');
  fs.writeFileSync(victim, 'precious\n');
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.symlinkSync(victim, at);
  return victim;
}

describe('symlinks at output paths', () => {
  it('the NDJSON writer follows a symlink planted at its path: no longer, the sink refuses it, names the link and leaves the target alone', async () => {
    const outDir = tmpDir();
    const metricsOut = path.join(outDir, '.codex/metrics.ndjson');
    fs.mkdirSync(path.dirname(metricsOut), { recursive: true });
    const victim = plantLink(metricsOut);
    const warnings: string[] = [];
    const telemetry = await startTelemetry(
      { outDir, systemMetricsInterval: 0, installExitHandlers: false },
      { env: {}, warn: (w) => warnings.push(w) },
    );
    telemetry.log({ loss: 1 }, { step: 0 });
    await telemetry.shutdown();
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(telemetry.health.isUp('ndjson')).toBe(false);
    expect(warnings.join('\n')).toContain(`${metricsOut} is a symbolic link`);
  });

  it('refuses a dangling link too, and creates nothing at its target', () => {
    const dir = tmpDir();
    const at = path.join(dir, 'events.bin');
    const target = path.join(dir, 'not-yet.bin');
    fs.symlinkSync(target, at);
    const health = new SinkHealth(() => undefined);
    for (const truncate of [false, true]) {
      const file = new AppendFile({ path: at, sink: `t${String(truncate)}`, health, truncate });
      expect(file.up).toBe(false);
      expect(health.reason(`t${String(truncate)}`)).toMatch(/is a symbolic link/);
    }
    expect(fs.existsSync(target)).toBe(false);
  });

  it('refuses to replace a symlink at a checkpoint manifest path', async () => {
    const outDir = tmpDir();
    const checkpoint = path.join(outDir, 'step-1.ckpt');
    fs.writeFileSync(checkpoint, 'weights');
    const victim = plantLink(`${checkpoint}.run_manifest.json`);
    const warnings: string[] = [];
    const telemetry = await startTelemetry(
      { outDir, systemMetricsInterval: 0, installExitHandlers: false },
      { env: {}, warn: (w) => warnings.push(w) },
    );
    telemetry.log({ loss: 1 }, { step: 1 });
    const written = await telemetry.checkpointSaved(checkpoint, { step: 1 });
    await telemetry.shutdown();
    expect(written).toBeUndefined();
    expect(fs.lstatSync(`${checkpoint}.run_manifest.json`).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(warnings.join('\n')).toMatch(/is a symbolic link/);
  });

  it('summarize --out refuses a symlink with exit 1 and a message naming it', async () => {
    const dir = tmpDir();
    const input = path.join(dir, 'm.ndjson');
    fs.writeFileSync(
      input,
      '{"v":1,"ts":1,"run_id":"r","step":0,"name":"loss","value":1,"tags":{"phase":"train"}}\n',
    );
    const out = path.join(dir, 'report.txt');
    const victim = plantLink(out);
    const result = await runSummarize([input, '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${out} is a symbolic link`);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
  });
});
