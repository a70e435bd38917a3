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
import type { EnvironmentRecord } from './record-types.js';
import { formatUnixTimestamp } from './timestamp.js';
import { jsonWithNonFinite } from './value-json.js';

export interface HostFacts {
  os: string;
  host: string;
  program: string;
  args: string[];
  root: string;
  executable: string;
  cpuCountLogical: number;
  memoryTotal: number;
}

export function hostFacts(hostname?: string): HostFacts {
  return {
    os: `${os.type()}-${os.release()}-${os.arch()}`,
    host: hostname ?? os.hostname(),
    program: process.argv[1] ?? process.argv0,
    args: process.argv.slice(2),
    root: process.cwd(),
    executable: process.execPath,
    cpuCountLogical: os.availableParallelism(),
    memoryTotal: os.totalmem(),
  };
}

/** The EnvironmentRecord: what `wandb sync` turns into the run's metadata. */
export function environmentRecord(facts: HostFacts, startTime: number, writerId: string): EnvironmentRecord {
  return {
    os: facts.os,
    started_at: formatUnixTimestamp(startTime),
    args: facts.args,
    program: facts.program,
    root: facts.root,
    host: facts.host,
    executable: facts.executable,
    cpu_count_logical: facts.cpuCountLogical,
    memory: { total: facts.memoryTotal },
    writer_id: writerId,
  };
}

export function writeMetadata(filesDir: string, facts: HostFacts, startTime: number): void {
  const metadata = {
    os: facts.os,
    host: facts.host,
    program: facts.program,
    args: facts.args,
    root: facts.root,
    executable: facts.executable,
    // W&B prints microseconds here.
    startedAt: new Date(startTime * 1000).toISOString().replace('Z', '000Z'),
    cpu_count_logical: facts.cpuCountLogical,
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

function writeAtomic(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}
