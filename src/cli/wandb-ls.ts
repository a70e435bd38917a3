/**
 * `codex-telemetry wandb ls [DIR]`: the offline runs in a W&B directory, so users can find what is
 * left to `wandb sync` and prune what is done. Pure listing (`listWandbRuns`) and formatting
 * (`formatWandbRuns`); the CLI glue only prints.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CommandIo } from '../command-line/command-io.js';
import { usageErrorText } from '../command-line/run-bin.js';
import { errnoCode, USAGE_EXIT_CODE } from '../errors.js';
import { scanWandbLog } from '../formats/wandb/log-scan.js';
import { decodeRecord } from '../formats/wandb/record-codec.js';
import { recordType } from '../formats/wandb/record-types.js';
import { OFFLINE_RUN_PATTERN } from '../exporters/wandb/run-dir.js';

export interface WandbRunInfo {
  /** Directory name, e.g. `offline-run-20250101_000000-g0ld3nv1`. */
  name: string;
  path: string;
  runId: string;
  /** Bytes of `run-<id>.wandb` (0 when missing). */
  size: number;
  /** Whole records in the log. */
  records: number;
  /** An exit record is present: the run ended, and sync will not mark it failed for a crash. */
  complete: boolean;
  exitCode?: number;
  /** `run-<id>.wandb.synced` exists (written by `wandb sync` after a successful upload). */
  synced: boolean;
  /** Why the log could not be read to its end (missing, truncated, corrupt). */
  problem?: string;
}

/** How many records at the end of a log are decoded to look for the exit record (exit, then final). */
const TAIL_RECORDS = 4;

export function listWandbRuns(dir: string): WandbRunInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => OFFLINE_RUN_PATTERN.test(name))
    .filter((name) => fs.lstatSync(path.join(dir, name)).isDirectory())
    .sort()
    .map((name) => describeRun(dir, name));
}

function describeRun(dir: string, name: string): WandbRunInfo {
  const runId = (OFFLINE_RUN_PATTERN.exec(name) as RegExpExecArray)[2] as string;
  const runPath = path.join(dir, name);
  const logPath = path.join(runPath, `run-${runId}.wandb`);
  const synced = fs.existsSync(`${logPath}.synced`);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(logPath);
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined) throw error;
    return {
      name,
      path: runPath,
      runId,
      size: 0,
      records: 0,
      complete: false,
      synced,
      problem: `cannot read run-${runId}.wandb (${code})`,
    };
  }
  const scan = scanWandbLog(bytes);
  const info: WandbRunInfo = {
    name,
    path: runPath,
    runId,
    size: bytes.byteLength,
    records: scan.records.length,
    complete: false,
    synced,
  };
  for (const scanned of scan.records.slice(-TAIL_RECORDS)) {
    let record;
    try {
      record = decodeRecord(scanned.payload);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      info.problem = `record at byte offset ${scanned.start} does not decode (${error.message})`;
      continue;
    }
    if (recordType(record) === 'exit') {
      info.complete = true;
      info.exitCode = record.exit?.exit_code ?? 0;
    }
  }
  if (scan.damage !== undefined) info.problem = `${scan.damage.kind} at byte offset ${scan.damage.offset}`;
  return info;
}

export function formatWandbRuns(runs: readonly WandbRunInfo[], dir: string): string {
  if (runs.length === 0) return `no W&B offline runs in ${dir}\n`;
  const rows = runs.map((run) => [
    run.name,
    formatBytes(run.size),
    String(run.records),
    state(run),
    run.synced ? 'yes' : 'no',
  ]);
  const header = ['RUN', 'SIZE', 'RECORDS', 'STATE', 'SYNCED'];
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) =>
        i === 1 || i === 2 ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number),
      )
      .join('  ')
      .trimEnd();
  const pending = runs.filter((run) => !run.synced).length;
  return [
    line(header),
    ...rows.map(line),
    '',
    `${runs.length} ${runs.length === 1 ? 'run' : 'runs'}, ${pending} not synced. Upload with: wandb sync ${path.join(dir, 'offline-run-*')}`,
    '',
  ].join('\n');
}

function state(run: WandbRunInfo): string {
  const base = run.complete
    ? run.exitCode === 0
      ? 'finished'
      : `failed (exit ${run.exitCode})`
    : 'no exit record (crashed or running)';
  return run.problem === undefined ? base : `${base}; ${run.problem}`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * `wandb ls [DIR]`: a folder that does not exist is a usage error (a typo must not read as "no
 * runs"), an existing folder without runs says so and exits 0.
 */
export function wandbLsCommand(given: string | undefined, io: CommandIo): number {
  const dir = given ?? io.env.WANDB_DIR ?? 'wandb';
  let isDirectory: boolean;
  try {
    isDirectory = fs.statSync(dir).isDirectory();
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT' && errnoCode(error) !== 'ENOTDIR') throw error;
    const from =
      given !== undefined ? '' : io.env.WANDB_DIR !== undefined ? ' (from WANDB_DIR)' : ' (the default)';
    io.stderr.write(
      usageErrorText(
        'codex-telemetry wandb',
        `no such folder: ${dir}${from}; pass the W&B folder: wandb ls DIR`,
      ),
    );
    return USAGE_EXIT_CODE;
  }
  if (!isDirectory) {
    io.stderr.write(usageErrorText('codex-telemetry wandb', `${dir} is a file, not a W&B folder`));
    return USAGE_EXIT_CODE;
  }
  io.stdout.write(formatWandbRuns(listWandbRuns(dir), dir));
  return 0;
}
