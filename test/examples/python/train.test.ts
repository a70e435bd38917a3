import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLine } from '../../helpers/ndjson-lines.js';
import { readManifest, schemaErrors, sha256sum, tempDir } from '../../manifest/helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TRAIN = path.join(ROOT, 'examples', 'python', 'train.py');
const VITE_NODE = path.join(ROOT, 'node_modules', '.bin', 'vite-node');
const MANIFEST_BIN = path.join(ROOT, 'test', 'fixtures', 'manifest', 'manifest-bin.ts');

const hasPython = spawnSync('python3', ['--version']).status === 0;
if (!hasPython && process.env.CI) throw new Error('python3 is required in CI for the Python example tests');

const validate = new Ajv2020({ strict: false }).compile(
  JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', 'metrics.schema.json'), 'utf8')) as object,
);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function setUp(): { dir: string; env: NodeJS.ProcessEnv; train: string; evalFile: string } {
  const dir = tempDir('codex-python-');
  dirs.push(dir);
  const train = path.join(dir, 'out', 'metrics.ndjson');
  const evalFile = path.join(dir, 'out', 'eval_metrics.ndjson');
  const env = {
    PATH: process.env.PATH,
    CODEX_METRICS_OUT: train,
    CODEX_EVAL_METRICS_OUT: evalFile,
    CODEX_RUN_ID: 'py000001',
  };
  return { dir, env, train, evalFile };
}

function schemaLines(file: string): string[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  expect(lines.pop(), `${file} ends with a newline`).toBe('');
  for (const [index, line] of lines.entries()) {
    validate(JSON.parse(line));
    expect(validate.errors ?? [], `${file}:${index + 1}: ${line}`).toEqual([]);
  }
  return lines;
}

describe.skipIf(!hasPython)('examples/python/train.py', () => {
  it('writes every step as schema v1 lines to CODEX_METRICS_OUT and evals to CODEX_EVAL_METRICS_OUT', () => {
    const { dir, env, train, evalFile } = setUp();
    const result = spawnSync('python3', [TRAIN, '--steps', '20', '--eval-every', '5'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = schemaLines(train).map(parseLine);
    expect(lines).toHaveLength(60);
    for (const name of ['loss', 'lr', 'grad_norm']) {
      expect(lines.filter((line) => line.name === name).map((line) => line.step)).toEqual([
        ...Array(20).keys(),
      ]);
    }
    expect(new Set(lines.map((line) => line.run_id))).toEqual(new Set(['py000001']));
    expect(new Set(lines.map((line) => line.tags.phase))).toEqual(new Set(['train']));
    const evals = schemaLines(evalFile).map(parseLine);
    expect(evals.map((line) => [line.step, line.name, line.tags.phase])).toEqual(
      [4, 9, 14, 19].flatMap((step) => [
        [step, 'loss', 'eval'],
        [step, 'accuracy', 'eval'],
      ]),
    );
  });

  it('exits with the status given by --exit-code after writing its lines', () => {
    const { dir, env, train } = setUp();
    const result = spawnSync('python3', [TRAIN, '--steps', '3', '--exit-code', '3'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    expect(result.status).toBe(3);
    expect(schemaLines(train)).toHaveLength(9);
  });

  it('flushes whole lines and exits 143 on SIGTERM', async () => {
    const { dir, env, train } = setUp();
    const child = spawn('python3', [TRAIN, '--steps', '100000', '--step-delay', '0.001'], {
      cwd: dir,
      env,
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (!(fs.existsSync(train) && fs.statSync(train).size > 10_000) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    const lines = schemaLines(train).map(parseLine);
    expect(lines.length).toBeGreaterThan(30);
    // Steps are contiguous from 0: nothing lost before the signal.
    const losses = lines.filter((line) => line.name === 'loss').map((line) => line.step);
    expect(losses).toEqual([...Array(losses.length).keys()]);
  });

  it('writes checkpoints with run manifests through CODEX_TELEMETRY_BIN, archiving the streams when asked', () => {
    const { dir, env, train } = setUp();
    const result = spawnSync(
      'python3',
      [TRAIN, '--steps', '10', '--checkpoint-every', '5', '--checkpoint-dir', 'ckpts', '--archive-metrics'],
      {
        cwd: dir,
        env: { ...env, CODEX_TELEMETRY_BIN: `${VITE_NODE} ${MANIFEST_BIN} --`, GIT_SHA: 'cafe0123' },
        encoding: 'utf8',
      },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const python = spawnSync('python3', ['-c', 'import platform; print(platform.python_version())'], {
      encoding: 'utf8',
    }).stdout.trim();
    for (const step of [4, 9]) {
      const checkpoint = path.join(dir, 'ckpts', `ckpt-${step}.pt`);
      const manifestPath = `${checkpoint}.run_manifest.json`;
      expect(schemaErrors(fs.readFileSync(manifestPath, 'utf8'))).toEqual([]);
      const manifest = readManifest(manifestPath);
      expect(manifest).toMatchObject({
        run_id: 'py000001',
        step,
        git_sha: 'cafe0123',
        runtime: { python },
        checkpoint: { name: `ckpt-${step}.pt`, kind: 'file', size_bytes: 8 + 4096 },
      });
      // The archive holds the train stream as it was at the checkpoint: steps 0..step, whole lines.
      const archived = manifest.metrics_archive?.files.find((file) => file.name === 'metrics.ndjson');
      const copy = path.join(`${checkpoint}.metrics`, 'metrics.ndjson');
      expect(archived?.sha256).toBe(sha256sum(copy));
      expect(schemaLines(copy).map(parseLine).at(-1)?.step).toBe(step);
    }
    expect(schemaLines(train)).toHaveLength(30);
  });
});
