/**
 * Signals to `run`: the first is passed on, a second within a few seconds sends SIGTERM to the
 * trainer's process group and says so, a third SIGKILL; the W&B run ends with that outcome. The
 * same for SIGTERM to `run`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readWandbLog } from '../../src/exporters/wandb/wandb-log-reader.js';

const BIN = fileURLToPath(new URL('../../dist/src/cli/codex-telemetry.js', import.meta.url));
const TRAINER = fileURLToPath(new URL('../fixtures/children/stubborn-trainer.mjs', import.meta.url));
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Outcome {
  code: number | null;
  stderr: string;
  trainerPid: number;
  workerPid: number;
  outDir: string;
}

/** Starts `run` around the stubborn trainer, sends `signals` once it is ready, waits for the end. */
async function runAndSignal(ignored: string, signals: NodeJS.Signals[]): Promise<Outcome> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-signals-'));
  cleanups.push(() => fs.rmSync(outDir, { recursive: true, force: true }));
  const run = spawn(
    process.execPath,
    [BIN, 'run', '--out', outDir, '--no-prometheus', '--', process.execPath, TRAINER, ignored],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CODEX_SYSTEM_METRICS_INTERVAL: '0' } },
  );
  let stdout = '';
  let stderr = '';
  run.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  run.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = new Promise<number | null>((resolve) => run.once('close', resolve));
  for (let waited = 0; !/ready \d+ \d+/.test(stdout); waited += 50) {
    if (waited > 30_000) throw new Error(`the trainer did not start: ${stderr}`);
    await sleep(50);
  }
  const [, trainer, worker] = /ready (\d+) (\d+)/.exec(stdout) as unknown as [string, string, string];
  const trainerPid = Number(trainer);
  const workerPid = Number(worker);
  cleanups.push(() => {
    for (const pid of [trainerPid, workerPid, run.pid as number])
      if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  for (const signal of signals) {
    run.kill(signal);
    await sleep(300);
  }
  const code = await Promise.race([closed, sleep(30_000).then(() => 'timeout' as const)]);
  if (code === 'timeout') throw new Error(`run did not end after ${signals.join(', ')}: ${stderr}`);
  return { code, stderr, trainerPid, workerPid, outDir };
}

function wandbExitCode(outDir: string): number | undefined {
  const wandbDir = path.join(outDir, 'wandb');
  const runDir = fs.readdirSync(wandbDir).find((name) => name.startsWith('offline-run-')) as string;
  const log = fs.readdirSync(path.join(wandbDir, runDir)).find((name) => name.endsWith('.wandb')) as string;
  const records = readWandbLog(path.join(wandbDir, runDir, log)).records;
  const exit = records.find((r) => r.record.exit !== undefined)?.record.exit as
    { exit_code?: number } | undefined;
  return exit?.exit_code;
}

describe('signals to run', () => {
  it('run ignores repeated Ctrl-C when the trainer ignores SIGINT: no longer, the second sends SIGTERM to its process group and says so', async () => {
    const result = await runAndSignal('SIGINT', ['SIGINT', 'SIGINT']);
    expect(result.stderr).toMatch(/passed SIGINT on to the trainer/);
    expect(result.stderr).toMatch(/SIGINT again: sent SIGTERM to the trainer's process group/);
    expect(result.code).toBe(143);
    expect(alive(result.trainerPid)).toBe(false);
    // The worker the trainer started was in its group, and went with it.
    await sleep(200);
    expect(alive(result.workerPid)).toBe(false);
    expect(wandbExitCode(result.outDir)).toBe(143);
  }, 60_000);

  it('a third Ctrl-C sends SIGKILL to a trainer that ignores SIGINT and SIGTERM', async () => {
    const result = await runAndSignal('SIGINT,SIGTERM', ['SIGINT', 'SIGINT', 'SIGINT']);
    expect(result.stderr).toMatch(/sent SIGKILL to the trainer's process group/);
    expect(result.code).toBe(137);
    expect(alive(result.trainerPid)).toBe(false);
    expect(wandbExitCode(result.outDir)).toBe(137);
  }, 60_000);

  it('escalates the same way when run itself receives SIGTERM', async () => {
    const result = await runAndSignal('SIGTERM', ['SIGTERM', 'SIGTERM', 'SIGTERM']);
    expect(result.stderr).toMatch(/passed SIGTERM on to the trainer/);
    expect(result.stderr).toMatch(/SIGTERM again: sent SIGKILL/);
    expect(result.code).toBe(137);
    expect(wandbExitCode(result.outDir)).toBe(137);
  }, 60_000);

  it('passes a single Ctrl-C on to a trainer that handles it, and ends with its exit code', async () => {
    const result = await runAndSignal('', ['SIGINT']);
    expect(result.code).toBe(130);
    expect(result.stderr).not.toMatch(/again/);
    expect(wandbExitCode(result.outDir)).toBe(130);
  }, 60_000);
});
