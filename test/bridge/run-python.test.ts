/**
 * `codex-telemetry run -- python3 examples/python/train.py`: the bridge re-exports a Python
 * trainer's NDJSON to every sink and propagates its exit code and signals.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readEventFile } from '../../src/exporters/tensorboard/event-file-reader.js';
import { readWandbLog } from '../../src/exporters/wandb/wandb-log-reader.js';

const BIN = fileURLToPath(new URL('../../dist/src/cli/codex-telemetry.js', import.meta.url));
const TRAINER = fileURLToPath(new URL('../../examples/python/train.py', import.meta.url));

function hasPython(): boolean {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
if (!hasPython() && process.env.CI)
  throw new Error('python3 is required for the bridge tests in CI (apt-get install python3)');

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

function tensorboardSteps(dir: string, phase: string): number[] {
  return walk(dir)
    .filter(
      (file) => file.includes(`${path.sep}${phase}${path.sep}`) && path.basename(file).includes('tfevents'),
    )
    .sort()
    .flatMap((file) =>
      readEventFile(file)
        .events.filter((event) => event.values?.some((v) => v.simpleValue !== undefined))
        .map((event) => Number(event.step)),
    );
}

interface WandbRun {
  historySteps: number[];
  stats: number;
  statsKeys: Set<string>;
  exitCode: number | undefined;
}

/** The W&B offline run the bridge wrote: history steps, stats records, exit code (undefined: no exit record). */
function wandbRun(out: string): WandbRun {
  const runDir = path.join(out, 'wandb', 'latest-run');
  const file = fs.readdirSync(runDir).find((name) => name.endsWith('.wandb')) as string;
  const log = readWandbLog(path.join(runDir, file));
  const run: WandbRun = { historySteps: [], stats: 0, statsKeys: new Set(), exitCode: undefined };
  // The reader returns protobuf's JSON form; only the few fields read here are typed.
  type Item = { key?: string; value_json: string };
  type Json = { history: { item: Item[] }; stats: { item: Item[] }; exit: { exit_code?: number } };
  for (const { type, record } of log.records as unknown as Array<{ type: string; record: Json }>) {
    if (type === 'history') {
      const step = record.history.item.find((item) => item.key === '_step');
      run.historySteps.push(Number(step?.value_json));
    } else if (type === 'stats') {
      run.stats++;
      for (const item of record.stats.item) run.statsKeys.add(item.key ?? '');
    } else if (type === 'exit') {
      run.exitCode = record.exit.exit_code ?? 0;
    }
  }
  return run;
}

async function bridge(
  out: string,
  trainerArgs: string[],
  signalWhen?: () => boolean,
  runFlags: string[] = [],
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'run',
      '--out',
      out,
      '--prometheus-port',
      '0',
      '--system-metrics-interval',
      '0.2',
      ...runFlags,
      '--',
      'python3',
      TRAINER,
      ...trainerArgs,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CODEX_TELEMETRY_BIN: `${process.execPath} ${BIN}` },
    },
  );
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const closed = new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  if (signalWhen !== undefined) {
    // Wait for the condition, not a fixed time: on a loaded machine the trainer may start late.
    const deadline = Date.now() + 60_000;
    while (child.exitCode === null && !signalWhen()) {
      if (Date.now() > deadline) throw new Error('the condition to signal on never came true within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGTERM');
  }
  const code = await closed;
  return { code, stderr, stdout };
}

describe.runIf(hasPython())('codex-telemetry run with the Python example trainer', () => {
  it('re-exports every step to TensorBoard, with system stats, and exits with the trainer code 0', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-run-'));
    dirs.push(out);
    const { code, stderr } = await bridge(out, [
      '--steps',
      '200',
      '--eval-every',
      '50',
      '--step-delay',
      '0.002',
    ]);
    expect(code, stderr).toBe(0);
    expect(tensorboardSteps(out, 'train')).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(tensorboardSteps(out, 'eval').length).toBeGreaterThanOrEqual(4);
    expect(stderr).toMatch(/trainer exited with 0; \d+ rows re-exported, 0 malformed/);
    const wandb = wandbRun(out);
    expect(wandb.historySteps).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(wandb.stats).toBeGreaterThan(0);
    expect(wandb.statsKeys.has('cpu')).toBe(true);
    expect(wandb.statsKeys.has('memory_percent')).toBe(true);
    expect(wandb.exitCode).toBe(0);
    // System samples of the host and the trainer's process tree, in the bridge's own stream.
    const system = fs.readFileSync(path.join(out, '.codex/bridge_system.ndjson'), 'utf8').trim().split('\n');
    expect(system.length).toBeGreaterThan(0);
    expect(JSON.parse(system[0] as string)).toMatchObject({ name: 'system', tags: { phase: 'system' } });
  });

  it('passes the trainer output through unchanged and, with --capture-output, copies it to the W&B output.log', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-run-'));
    dirs.push(out);
    const { code, stdout, stderr } = await bridge(out, ['--steps', '10'], undefined, ['--capture-output']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^train\.py: run \w+, 10 steps/m);
    const log = fs.readFileSync(path.join(out, 'wandb', 'latest-run', 'files', 'output.log'), 'utf8');
    expect(log).toMatch(/^train\.py: run \w+, 10 steps/m);
  });

  it('propagates a non-zero exit code', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-run-'));
    dirs.push(out);
    const { code } = await bridge(out, ['--steps', '20', '--exit-code', '3']);
    expect(code).toBe(3);
    expect(tensorboardSteps(out, 'train')).toHaveLength(20);
    expect(wandbRun(out).exitCode).toBe(3);
  });

  it('forwards SIGTERM to the trainer and flushes everything it wrote', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-run-'));
    dirs.push(out);
    // SIGTERM once the trainer has logged step 50 (one line per scalar in .codex/metrics.ndjson).
    const metrics = path.join(out, '.codex/metrics.ndjson');
    const lastLoggedStep = (): number => {
      const lines = fs.existsSync(metrics) ? fs.readFileSync(metrics, 'utf8').split('\n') : [];
      const whole = lines.at(-2);
      return whole === undefined ? -1 : (JSON.parse(whole) as { step: number }).step;
    };
    const { code } = await bridge(
      out,
      ['--steps', '100000', '--step-delay', '0.001'],
      () => lastLoggedStep() >= 50,
    );
    expect(code).toBe(143);
    const trained = fs
      .readFileSync(path.join(out, '.codex/metrics.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { step: number }).step);
    const lastStep = Math.max(...trained);
    const steps = tensorboardSteps(out, 'train');
    expect(steps.length).toBeGreaterThanOrEqual(50);
    expect(steps.at(-1)).toBe(lastStep);
    const wandb = wandbRun(out);
    expect(wandb.historySteps.at(-1)).toBe(lastStep);
    expect(wandb.exitCode).toBe(143);
  });
});
