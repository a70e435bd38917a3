import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manifestCommand, parseManifestArgs } from '../../src/cli/manifest-command.js';
import { UsageError } from '../../src/errors.js';
import { readManifest, schemaErrors, sha256sum, tempDir } from '../manifest/helpers.js';
import { captureIo } from '../helpers/capture-io.js';
import { requirePrerequisite } from '../helpers/require-prerequisite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const io = captureIo;

describe('parseManifestArgs', () => {
  it('reads the checkpoint and every flag', () => {
    expect(
      parseManifestArgs([
        'ckpt.pt',
        '--step',
        '42',
        '--run-id',
        'r1',
        '--python-version',
        '3.11.7',
        '--sha256',
        '--archive-metrics',
        '--metrics-out',
        'a.ndjson',
        '--metrics-out',
        'b.ndjson',
        '--project-root',
        '/src',
        '--env',
        'SEED',
        '--manifest-path',
        'm.json',
      ]),
    ).toEqual({
      kind: 'args',
      args: {
        checkpoint: 'ckpt.pt',
        step: 42,
        runId: 'r1',
        pythonVersion: '3.11.7',
        sha256: true,
        archiveMetrics: true,
        metricsOut: ['a.ndjson', 'b.ndjson'],
        projectRoot: '/src',
        envKeys: ['SEED'],
        manifestPath: 'm.json',
      },
    });
  });

  it('keeps int64 steps beyond 2^53 exact and rejects steps that are not int64 integers', () => {
    const big = parseManifestArgs(['c', '--step', '9223372036854775807']);
    expect(big.kind === 'args' && big.args.step).toBe(9223372036854775807n);
    for (const bad of ['1.5', 'ten', '9223372036854775808', '']) {
      expect(() => parseManifestArgs(['c', '--step', bad]), bad).toThrow(UsageError);
      expect(() => parseManifestArgs(['c', '--step', bad]), bad).toThrow(/--step/);
    }
  });

  it('throws a usage error for no checkpoint, two checkpoints or an unknown flag, and answers --help and -V', () => {
    expect(() => parseManifestArgs([])).toThrow(UsageError);
    expect(() => parseManifestArgs(['a', 'b'])).toThrow(UsageError);
    expect(() => parseManifestArgs(['a', '--nope'])).toThrow(/unknown option --nope/);
    expect(parseManifestArgs(['--help']).kind).toBe('help');
    expect(parseManifestArgs(['-V']).kind).toBe('version');
  });
});

describe('codex-telemetry manifest', () => {
  it('writes the manifest, prints its path and exits 0', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const checkpoint = path.join(dir, 'ckpt-7.pt');
    fs.writeFileSync(checkpoint, 'weights');
    const t = io({ CODEX_RUN_ID: 'envrun01', GIT_SHA: 'feedbeef', CODEX_PYTHON_VERSION: '3.12.0' });
    const code = await manifestCommand([checkpoint, '--step', '7', '--sha256', '--project-root', dir], t.io);
    expect(code).toBe(0);
    expect(t.stderr()).toBe('');
    expect(t.stdout()).toBe(`${checkpoint}.run_manifest.json\n`);
    const manifest = readManifest(`${checkpoint}.run_manifest.json`);
    expect(manifest).toMatchObject({
      run_id: 'envrun01',
      step: 7,
      git_sha: 'feedbeef',
      runtime: { node: process.version, python: '3.12.0' },
      checkpoint: { name: 'ckpt-7.pt', sha256: sha256sum(checkpoint) },
    });
    expect(schemaErrors(fs.readFileSync(`${checkpoint}.run_manifest.json`, 'utf8'))).toEqual([]);
  });

  it('exits 1, not 0, when the manifest cannot be written, with the reason on stderr', async (ctx) => {
    const dir = tempDir();
    dirs.push(dir);
    const file = path.join(dir, 'regular-file');
    fs.writeFileSync(file, '');
    const t = io();
    expect(await manifestCommand([path.join(file, 'ckpt.pt'), '--step', '1'], t.io)).toBe(1);
    expect(t.stdout()).toBe('');
    expect(t.stderr()).toMatch(/^codex-telemetry manifest: no manifest written for .*ckpt\.pt: ENOTDIR/);

    requirePrerequisite(fs.existsSync('/proc/version'), '/proc', ctx.skip);
    const proc = io();
    expect(await manifestCommand(['/proc/version'], proc.io)).toBe(1);
    expect(proc.stderr()).toContain('no manifest written for /proc/version');
  });

  it('exits 2 with one line of ours on a usage mistake, not 0', async () => {
    const t = io();
    expect(await manifestCommand(['ckpt.pt', '--step', 'x'], t.io)).toBe(2);
    expect(t.stderr()).toBe(
      'codex-telemetry: --step must be an int64 integer, got "x"\nRun "codex-telemetry manifest --help" for usage.\n',
    );
  });

  it("answers --bogus with our one-line usage error and exit 2, not Node's parser text and exit 0", async () => {
    const t = io();
    expect(await manifestCommand(['ckpt.pt', '--bogus'], t.io)).toBe(2);
    expect(t.stderr()).toMatch(
      /^codex-telemetry: unknown option --bogus\nRun "codex-telemetry manifest --help"/,
    );
    expect(t.stderr()).not.toMatch(/ERR_PARSE_ARGS|To specify a positional argument/);
  });

  it('prints the version for -V instead of a parser error', async () => {
    const t = io();
    expect(await manifestCommand(['-V'], t.io)).toBe(0);
    expect(t.stdout()).toMatch(/^codex-telemetry \d+\.\d+\.\d+\n$/);
  });

  it('keeps the run_id and step the run recorded when rewriting a manifest without a run id, instead of null', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const checkpoint = path.join(dir, 'step-299.ckpt');
    fs.writeFileSync(checkpoint, 'weights');
    const first = io({ CODEX_RUN_ID: 'demo1234' });
    expect(await manifestCommand([checkpoint, '--step', '299', '--project-root', dir], first.io)).toBe(0);
    const again = io({});
    expect(await manifestCommand([checkpoint, '--project-root', dir], again.io)).toBe(0);
    expect(readManifest(`${checkpoint}.run_manifest.json`)).toMatchObject({ run_id: 'demo1234', step: 299 });
    // A run id given wins over the one on disk.
    const other = io({});
    await manifestCommand([checkpoint, '--run-id', 'other567', '--project-root', dir], other.io);
    expect(readManifest(`${checkpoint}.run_manifest.json`).run_id).toBe('other567');
  });

  it('archives the streams named by CODEX_METRICS_OUT and CODEX_EVAL_METRICS_OUT, rotated segments included', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const train = path.join(dir, 'train.ndjson');
    const evalFile = path.join(dir, 'eval.ndjson');
    fs.writeFileSync(path.join(dir, 'train.000001.ndjson'), '{"step":0,"loss":1}\n');
    fs.writeFileSync(train, '{"step":1,"loss":0.5}\n{"step":2,"lo');
    fs.writeFileSync(evalFile, '{"step":1,"acc":0.5,"phase":"eval"}\n');
    const checkpoint = path.join(dir, 'ckpt.pt');
    fs.writeFileSync(checkpoint, 'weights');
    const t = io({ CODEX_METRICS_OUT: train, CODEX_EVAL_METRICS_OUT: evalFile });
    expect(await manifestCommand([checkpoint, '--archive-metrics', '--project-root', dir], t.io)).toBe(0);
    expect(t.stderr()).toBe('');
    const archive = readManifest(`${checkpoint}.run_manifest.json`).metrics_archive;
    expect(archive?.files.map((file) => [file.name, file.method])).toEqual([
      ['train.000001.ndjson', 'link'],
      ['train.ndjson', 'copy'],
      ['eval.ndjson', 'copy'],
    ]);
    expect(fs.readFileSync(path.join(`${checkpoint}.metrics`, 'train.ndjson'), 'utf8')).toBe(
      '{"step":1,"loss":0.5}\n',
    );
  });

  it('archives the streams given with --metrics-out instead of the environment ones', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const mine = path.join(dir, 'mine.ndjson');
    fs.writeFileSync(mine, '{"step":1,"loss":0.5}\n');
    const checkpoint = path.join(dir, 'ckpt.pt');
    fs.writeFileSync(checkpoint, 'weights');
    const t = io({ CODEX_METRICS_OUT: path.join(dir, 'other.ndjson') });
    await manifestCommand(
      [checkpoint, '--archive-metrics', '--metrics-out', mine, '--project-root', dir],
      t.io,
    );
    const files = readManifest(`${checkpoint}.run_manifest.json`).metrics_archive?.files ?? [];
    expect(files.map((file) => [file.name, file.sha256])).toEqual([['mine.ndjson', sha256sum(mine)]]);
  });
});
