import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { streamFiles } from '../../src/ndjson/segments.js';
import { writeRunManifest } from '../../src/manifest/index.js';
import { requirePrerequisite } from '../helpers/require-prerequisite.js';
import { startTelemetry } from '../../src/telemetry.js';
import { readManifest, schemaErrors, sha256sum, tempDir } from './helpers.js';

const dirs: string[] = [];
function workDir(base?: string): string {
  const dir = base === undefined ? tempDir() : fs.mkdtempSync(path.join(base, 'codex-manifest-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function line(step: number): string {
  return `${JSON.stringify({ v: 1, ts: 1.7e9 + step, run_id: 'arch0001', step, name: 'loss', value: 1 / (step + 1), tags: { phase: 'train' } })}\n`;
}

/** A rotated stream as the NDJSON exporter leaves it: two closed segments and an active file whose
 * writer is in the middle of a line. */
function rotatedStream(dir: string): { active: string; files: string[]; partial: string } {
  const streamDir = path.join(dir, '.codex');
  fs.mkdirSync(streamDir);
  const active = path.join(streamDir, 'metrics.ndjson');
  fs.writeFileSync(path.join(streamDir, 'metrics.000001.ndjson'), line(0) + line(1));
  fs.writeFileSync(path.join(streamDir, 'metrics.000002.ndjson'), line(2) + line(3));
  const partial = line(5).slice(0, 20);
  fs.writeFileSync(active, line(4) + partial);
  return { active, files: streamFiles(active), partial };
}

describe('archiving metric streams beside a checkpoint', () => {
  it('links closed segments, copies the active file up to its last whole line, and lists sha256 digests', async () => {
    const dir = workDir();
    const { active, files } = rotatedStream(dir);
    const checkpoint = path.join(dir, 'ckpt-4.pt');
    fs.writeFileSync(checkpoint, 'weights');

    const written = await writeRunManifest(checkpoint, {
      step: 4,
      env: {},
      projectRoot: dir,
      archiveMetrics: true,
      metricsFiles: files,
    });
    const text = fs.readFileSync(written as string, 'utf8');
    expect(schemaErrors(text)).toEqual([]);
    const archive = readManifest(written as string).metrics_archive;
    expect(archive?.dir).toBe('ckpt-4.pt.metrics');
    expect(archive?.error).toBeUndefined();
    const archiveDir = path.join(dir, 'ckpt-4.pt.metrics');
    expect(archive?.files.map((file) => [file.name, file.method, file.source])).toEqual([
      ['metrics.000001.ndjson', 'link', files[0]],
      ['metrics.000002.ndjson', 'link', files[1]],
      ['metrics.ndjson', 'copy', active],
    ]);
    for (const file of archive?.files ?? []) {
      const placed = path.join(archiveDir, file.name);
      expect(file.sha256).toBe(sha256sum(placed));
      expect(file.size_bytes).toBe(fs.statSync(placed).size);
    }
    // Same inode for the closed segments: no bytes copied.
    expect(fs.statSync(path.join(archiveDir, 'metrics.000001.ndjson')).ino).toBe(
      fs.statSync(files[0] as string).ino,
    );
    // The copy of the active file holds whole lines only, and stops growing with its source.
    expect(fs.readFileSync(path.join(archiveDir, 'metrics.ndjson'), 'utf8')).toBe(line(4));
    fs.appendFileSync(active, 'more\n');
    expect(fs.readFileSync(path.join(archiveDir, 'metrics.ndjson'), 'utf8')).toBe(line(4));
  });

  it('closes the current segments first through beforeArchive, so their last lines are archived', async () => {
    const dir = workDir();
    const { active, partial } = rotatedStream(dir);
    const checkpoint = path.join(dir, 'ckpt.pt');
    fs.writeFileSync(checkpoint, 'weights');
    const calls: string[] = [];
    const written = await writeRunManifest(checkpoint, {
      env: {},
      projectRoot: dir,
      archiveMetrics: true,
      metricsFiles: [active],
      beforeArchive: async () => {
        calls.push('close');
        fs.appendFileSync(active, line(5).slice(partial.length));
        await Promise.resolve();
      },
    });
    expect(calls).toEqual(['close']);
    const [archived] = readManifest(written as string).metrics_archive?.files ?? [];
    expect(fs.readFileSync(path.join(dir, 'ckpt.pt.metrics', archived?.name ?? ''), 'utf8')).toBe(
      line(4) + line(5),
    );
  });

  it('reads a metricsFiles function after beforeArchive, so the segment a rotation just closed is linked', async () => {
    const dir = workDir();
    const { active, partial } = rotatedStream(dir);
    const checkpoint = path.join(dir, 'ckpt.pt');
    fs.writeFileSync(checkpoint, 'weights');
    const written = await writeRunManifest(checkpoint, {
      env: {},
      projectRoot: dir,
      archiveMetrics: true,
      metricsFiles: () => streamFiles(active),
      // What the exporter's rotateNow() does: finish the line, close the file as the next segment.
      beforeArchive: () => {
        fs.appendFileSync(active, line(5).slice(partial.length));
        fs.renameSync(active, path.join(dir, '.codex', 'metrics.000003.ndjson'));
        fs.writeFileSync(active, '');
        return Promise.resolve();
      },
    });
    const files = readManifest(written as string).metrics_archive?.files ?? [];
    expect(files.map((file) => [file.name, file.method])).toEqual([
      ['metrics.000001.ndjson', 'link'],
      ['metrics.000002.ndjson', 'link'],
      ['metrics.000003.ndjson', 'link'],
      ['metrics.ndjson', 'copy'],
    ]);
    const archived = files.map((file) =>
      fs.readFileSync(path.join(dir, 'ckpt.pt.metrics', file.name), 'utf8'),
    );
    expect(archived.join('')).toBe([0, 1, 2, 3, 4, 5].map(line).join(''));
  });

  it('records a failing beforeArchive in the manifest and still archives what is on disk', async () => {
    const dir = workDir();
    const { files } = rotatedStream(dir);
    const checkpoint = path.join(dir, 'ckpt.pt');
    fs.writeFileSync(checkpoint, 'weights');
    const written = await writeRunManifest(checkpoint, {
      env: {},
      projectRoot: dir,
      archiveMetrics: true,
      metricsFiles: files,
      beforeArchive: () => Promise.reject(new Error('disk full while flushing')),
    });
    const archive = readManifest(written as string).metrics_archive;
    expect(archive?.error).toContain('disk full while flushing');
    expect(archive?.files).toHaveLength(3);
    expect(schemaErrors(fs.readFileSync(written as string, 'utf8'))).toEqual([]);
  });

  it('skips streams that were never written and keeps two streams that share a base name', async () => {
    const dir = workDir();
    fs.mkdirSync(path.join(dir, 'a'));
    fs.mkdirSync(path.join(dir, 'b'));
    fs.writeFileSync(path.join(dir, 'a', 'metrics.ndjson'), line(1));
    fs.writeFileSync(path.join(dir, 'b', 'metrics.ndjson'), line(2));
    const checkpoint = path.join(dir, 'ckpt.pt');
    fs.writeFileSync(checkpoint, 'weights');
    const written = await writeRunManifest(checkpoint, {
      env: {},
      projectRoot: dir,
      archiveMetrics: true,
      metricsFiles: [
        path.join(dir, 'a', 'metrics.ndjson'),
        path.join(dir, 'eval.ndjson'),
        path.join(dir, 'b', 'metrics.ndjson'),
      ],
    });
    const files = readManifest(written as string).metrics_archive?.files ?? [];
    expect(files.map((file) => file.name)).toEqual(['metrics.ndjson', '2-metrics.ndjson']);
    expect(fs.readFileSync(path.join(dir, 'ckpt.pt.metrics', '2-metrics.ndjson'), 'utf8')).toBe(line(2));
  });

  it('replaces an earlier archive of the same checkpoint instead of failing', async () => {
    const dir = workDir();
    const { files, active } = rotatedStream(dir);
    const checkpoint = path.join(dir, 'ckpt.pt');
    fs.writeFileSync(checkpoint, 'weights');
    const options = { env: {}, projectRoot: dir, archiveMetrics: true, metricsFiles: files };
    await writeRunManifest(checkpoint, options);
    fs.appendFileSync(active, '"}\n');
    const written = await writeRunManifest(checkpoint, options);
    const archive = readManifest(written as string).metrics_archive;
    expect(archive?.error).toBeUndefined();
    expect(archive?.files.at(-1)?.sha256).toBe(sha256sum(active));
  });

  it('puts the archive inside a checkpoint folder and leaves it out of the checkpoint size', async () => {
    const dir = workDir();
    const { files } = rotatedStream(dir);
    const folder = path.join(dir, 'checkpoint-4');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'model.bin'), Buffer.alloc(100));
    const written = await writeRunManifest(folder, {
      env: {},
      projectRoot: dir,
      archiveMetrics: true,
      metricsFiles: files,
    });
    const manifest = readManifest(written as string);
    expect(manifest.metrics_archive?.dir).toBe('codex_metrics');
    expect(fs.readdirSync(path.join(folder, 'codex_metrics'))).toHaveLength(3);
    expect(manifest.checkpoint).toMatchObject({ size_bytes: 100, file_count: 1 });
  });

  it('copies closed segments when the checkpoint is on another file system (no hard link possible)', async (ctx) => {
    requirePrerequisite(
      fs.existsSync('/dev/shm') && fs.statSync('/dev/shm').dev !== fs.statSync(os.tmpdir()).dev,
      '/dev/shm on a file system apart from the temp folder',
      ctx.skip,
    );
    const streams = workDir();
    const { files } = rotatedStream(streams);
    const elsewhere = workDir('/dev/shm');
    const checkpoint = path.join(elsewhere, 'ckpt.pt');
    fs.writeFileSync(checkpoint, 'weights');
    const written = await writeRunManifest(checkpoint, {
      env: {},
      projectRoot: elsewhere,
      archiveMetrics: true,
      metricsFiles: files,
    });
    const archived = readManifest(written as string).metrics_archive?.files ?? [];
    expect(archived.map((file) => file.method)).toEqual(['copy', 'copy', 'copy']);
    expect(archived[0]?.sha256).toBe(sha256sum(files[0] as string));
  });

  it('archives a stream rotated by the real NDJSON exporter so that it reads back as the same lines', async () => {
    const outDir = workDir();
    const telemetry = await startTelemetry(
      {
        outDir,
        runId: 'arch0002',
        systemMetricsInterval: 0,
        installExitHandlers: false,
        flushInterval: 0.01,
        metricsRotateBytes: 2048,
      },
      { env: {}, info: () => undefined },
    );
    for (let step = 0; step < 200; step++) {
      telemetry.log({ loss: 1 / (step + 1), lr: step * 1e-6 }, { step });
      if (step % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await telemetry.shutdown();
    const active = path.join(outDir, '.codex', 'metrics.ndjson');
    const files = streamFiles(active);
    expect(files.length).toBeGreaterThan(2);
    const checkpoint = path.join(outDir, 'ckpt-199.pt');
    fs.writeFileSync(checkpoint, 'weights');
    const written = await writeRunManifest(checkpoint, {
      step: 199,
      env: {},
      projectRoot: outDir,
      archiveMetrics: true,
      metricsFiles: files,
    });
    const archived = readManifest(written as string).metrics_archive?.files ?? [];
    const original = files.map((file) => fs.readFileSync(file, 'utf8')).join('');
    const copy = archived
      .map((file) => fs.readFileSync(path.join(`${checkpoint}.metrics`, file.name), 'utf8'))
      .join('');
    expect(copy).toBe(original);
    expect(copy.split('\n').filter((text) => text !== '')).toHaveLength(400);
  });
});
