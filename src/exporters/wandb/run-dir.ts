/**
 * The offline run directory W&B's `wandb sync` expects:
 * `<wandb dir>/offline-run-YYYYMMDD_HHMMSS-<id>/{run-<id>.wandb, files/, logs/, tmp/code/}` (local
 * time, as W&B names them), and `<wandb dir>/latest-run`, a relative symlink to the newest run.
 */
import fs from 'node:fs';
import path from 'node:path';

export const RUN_ID_PATTERN = /^[a-z0-9]{8}$/;
export const OFFLINE_RUN_PATTERN = /^offline-run-(\d{8}_\d{6})-([a-z0-9]+)$/;

export interface RunLayout {
  runDir: string;
  /** `run-<id>.wandb`, the transaction log. */
  logPath: string;
  filesDir: string;
}

/** `offline-run-YYYYMMDD_HHMMSS-<id>` from Unix seconds, in local time. */
export function runDirName(runId: string, startTime: number): string {
  const date = new Date(startTime * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  const stamp =
    `${date.getFullYear()}${two(date.getMonth() + 1)}${two(date.getDate())}_` +
    `${two(date.getHours())}${two(date.getMinutes())}${two(date.getSeconds())}`;
  return `offline-run-${stamp}-${runId}`;
}

export function runLayout(wandbDir: string, runId: string, startTime: number): RunLayout {
  const runDir = path.join(wandbDir, runDirName(runId, startTime));
  return { runDir, logPath: path.join(runDir, `run-${runId}.wandb`), filesDir: path.join(runDir, 'files') };
}

/** Creates the folders. Throws the file-system error (the exporter reports it once). */
export function createRunLayout(layout: RunLayout): void {
  for (const sub of ['files', 'logs', path.join('tmp', 'code')]) {
    fs.mkdirSync(path.join(layout.runDir, sub), { recursive: true });
  }
  if (fs.existsSync(layout.logPath)) {
    // W&B's writer refuses too (it opens with O_EXCL): appending would interleave two runs.
    throw Object.assign(new Error(`${layout.logPath} already exists; use a new run id`), { code: 'EEXIST' });
  }
}

/**
 * Points `<wandb dir>/latest-run` at the run: a symlink made under a temporary name, then renamed
 * over the old one, so readers never see the link missing.
 */
export function pointLatestRun(wandbDir: string, runDir: string): void {
  const link = path.join(wandbDir, 'latest-run');
  const temp = `${link}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  fs.symlinkSync(path.basename(runDir), temp);
  try {
    fs.renameSync(temp, link);
  } catch (error) {
    // e.g. EISDIR: a real directory named latest-run. Leave it, and do not leave our temp link.
    fs.rmSync(temp, { force: true });
    throw error;
  }
}
