/**
 * The human-readable files W&B keeps beside the log in `files/`: `wandb-metadata.json`,
 * `config.yaml` and `wandb-summary.json`. `wandb sync` rebuilds its own copies from the records,
 * so these serve people and tools looking at the directory; each is replaced atomically
 * (temporary file, then rename) so a reader never sees half a file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { errnoCode } from '../../errors.js';
import type { EnvironmentRecord } from '../../formats/wandb/record-types.js';
import { formatUnixTimestamp } from '../../formats/wandb/timestamp.js';
import { jsonWithNonFinite } from '../../formats/wandb/value-json.js';
import { refuseSymlinkAt, writeNewFileSync } from '../../files/no-follow.js';

export interface HostFacts {
  os: string;
  host: string;
  pid: number;
  /** The trainer's program when this process watches one (`run -- python train.py`), else this script. */
  program: string;
  /** `program` relative to `root` when it lies under it (the SDK's `code_path_local`). */
  codePathLocal: string | undefined;
  args: string[];
  root: string;
  executable: string;
  cpuCount: number;
  cpuCountLogical: number;
  memoryTotal: number;
  /** Size and use of the root file system, as the SDK reports `disk["/"]`; absent if unreadable. */
  disk: { total: number; used: number } | undefined;
}

export function hostFacts(hostname?: string, argv: readonly string[] = process.argv): HostFacts {
  const root = process.cwd();
  const program = trainerProgram(argv.slice(2)) ?? argv[1] ?? process.argv0;
  const absolute = path.resolve(root, program);
  const relative = path.relative(root, absolute);
  const logical = os.availableParallelism();
  return {
    os: `${os.type()}-${os.release()}-${os.arch()}`,
    host: hostname ?? os.hostname(),
    pid: process.pid,
    program,
    codePathLocal:
      relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : undefined,
    args: argv.slice(2),
    root,
    executable: process.execPath,
    cpuCount: physicalCores() ?? logical,
    cpuCountLogical: logical,
    memoryTotal: os.totalmem(),
    disk: rootDisk(),
  };
}

/** Interpreters whose first non-option argument is the program they run. */
const INTERPRETERS = /^(python[0-9.]*|node|bun|deno|torchrun|accelerate|deepspeed)$/;

/**
 * The trainer's program in `codex-telemetry run [options] -- <command...>`: the script an
 * interpreter runs (`python train.py` → `train.py`), or the command itself.
 */
export function trainerProgram(args: readonly string[]): string | undefined {
  const dash = args.indexOf('--');
  if (dash < 0) return undefined;
  const command = args.slice(dash + 1);
  const first = command[0];
  if (first === undefined) return undefined;
  if (!INTERPRETERS.test(path.basename(first))) return first;
  // `python -m pkg` runs a module: the SDK names it the same way, by the module.
  for (let i = 1; i < command.length; i++) {
    const arg = command[i] as string;
    if (arg === '-m' || arg === '-c') return command[i + 1];
    if (!arg.startsWith('-')) return arg;
  }
  return first;
}

/** Physical cores from /proc/cpuinfo (distinct physical id + core id); undefined where unreadable. */
function physicalCores(): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch (error) {
    if (errnoCode(error) !== undefined) return undefined;
    throw error;
  }
  const cores = new Set<string>();
  let physical = '';
  for (const line of text.split('\n')) {
    const [name, value] = line.split(':').map((part) => part.trim());
    if (name === 'physical id') physical = value ?? '';
    else if (name === 'core id') cores.add(`${physical}/${value ?? ''}`);
  }
  return cores.size > 0 ? cores.size : undefined;
}

function rootDisk(): { total: number; used: number } | undefined {
  try {
    const stats = fs.statfsSync('/');
    return { total: stats.blocks * stats.bsize, used: (stats.blocks - stats.bfree) * stats.bsize };
  } catch (error) {
    if (errnoCode(error) !== undefined) return undefined;
    throw error;
  }
}

/** The EnvironmentRecord: what `wandb sync` turns into the run's metadata. */
export function environmentRecord(facts: HostFacts, startTime: number, writerId: string): EnvironmentRecord {
  return {
    os: facts.os,
    started_at: formatUnixTimestamp(startTime),
    args: facts.args,
    program: facts.program,
    code_path_local: facts.codePathLocal,
    root: facts.root,
    host: facts.host,
    executable: facts.executable,
    cpu_count: facts.cpuCount,
    cpu_count_logical: facts.cpuCountLogical,
    disk: facts.disk === undefined ? undefined : [{ key: '/', value: facts.disk }],
    memory: { total: facts.memoryTotal },
    cpu: { count: facts.cpuCount, count_logical: facts.cpuCountLogical },
    writer_id: writerId,
  };
}

export function writeMetadata(filesDir: string, facts: HostFacts, startTime: number): void {
  const metadata = {
    os: facts.os,
    host: facts.host,
    program: facts.program,
    codePathLocal: facts.codePathLocal,
    args: facts.args,
    root: facts.root,
    executable: facts.executable,
    // W&B prints microseconds here.
    startedAt: new Date(startTime * 1000).toISOString().replace('Z', '000Z'),
    cpu_count: facts.cpuCount,
    cpu_count_logical: facts.cpuCountLogical,
    disk: facts.disk === undefined ? undefined : { '/': facts.disk },
    memory: { total: facts.memoryTotal },
  };
  writeAtomic(path.join(filesDir, 'wandb-metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
}

/** `config.yaml` as W&B lays it out: each key holds `{value: ...}`, keys sorted. */
export function writeConfigYaml(filesDir: string, config: Record<string, unknown>): void {
  const doc: Record<string, { value: unknown }> = { _wandb: { value: {} } };
  for (const key of Object.keys(config).sort()) doc[key] = { value: config[key] };
  writeAtomic(path.join(filesDir, 'config.yaml'), YAML.stringify(doc, { sortMapEntries: true }));
}

/** `wandb-summary.json`: one line, non-finite values bare (as W&B writes it). */
export function writeSummaryJson(filesDir: string, summary: Record<string, unknown>): void {
  writeAtomic(path.join(filesDir, 'wandb-summary.json'), jsonWithNonFinite(summary));
}

/**
 * Copies the working directory's `requirements.txt` into `files/`, as the SDK uploads the
 * environment's requirements; returns whether there was one (a Node trainer usually has none).
 */
export function copyRequirements(root: string, filesDir: string): boolean {
  try {
    const dest = path.join(filesDir, 'requirements.txt');
    refuseSymlinkAt(dest);
    fs.copyFileSync(path.join(root, 'requirements.txt'), dest);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Temp file (new, no link followed), then a rename that refuses to replace a symlink. */
function writeAtomic(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.rmSync(temp, { force: true });
  writeNewFileSync(temp, text);
  refuseSymlinkAt(file);
  fs.renameSync(temp, file);
}
