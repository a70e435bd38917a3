/**
 * A Prometheus file_sd entry for one rank's `/metrics`: `[{"targets": ["HOST:PORT"], "labels": {...}}]`
 * (https://prometheus.io/docs/guides/file-sd/). Every rank of a job writes its own file into one
 * shared folder; a Prometheus whose `file_sd_configs` watches `folder/*.json` then scrapes every rank,
 * with `run_id`, `rank`, `local_rank`, `world_size` and `node` on each series. Files are replaced
 * atomically (Prometheus never reads half an entry) and removed when the run ends, so a finished
 * job's targets drop out instead of showing `up == 0` forever.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errnoCode } from '../../errors.js';
import { writeFileAtomic } from '../../manifest/atomic-write.js';

export interface ScrapeTargetLabels {
  run_id: string;
  rank: string;
  local_rank: string;
  world_size: string;
  node: string;
}

/**
 * Where this rank's entry goes. An existing folder (or a path ending in `/`) gets
 * `<run_id>-rank<N>.json` inside it; a file path is used by rank 0, and rank N > 0 writes
 * `<name>.rankN.json` beside it, as the NDJSON streams do, so ranks never overwrite each other.
 */
export function sdFilePath(configured: string, runId: string, rank: number): string {
  if (configured.endsWith('/') || isDirectory(configured)) {
    return path.join(configured, `${runId}-rank${rank}.json`);
  }
  if (rank === 0) return configured;
  const ext = path.extname(configured);
  return `${configured.slice(0, configured.length - ext.length)}.rank${rank}${ext}`;
}

/**
 * The address other machines scrape: the bound host, or this machine's name when the endpoint
 * listens on every interface (0.0.0.0 / ::), which is not an address anyone can connect to.
 */
export function scrapeAddress(host: string, port: number, hostName: string = os.hostname()): string {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]' || host === '';
  const name = wildcard ? hostName : host;
  const hostPart = name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
  return `${hostPart}:${port}`;
}

export function sdEntryText(address: string, labels: ScrapeTargetLabels): string {
  return `${JSON.stringify([{ targets: [address], labels }], null, 2)}\n`;
}

/** Writes (or replaces) the entry, creating its folder. */
export async function writeSdEntry(file: string, address: string, labels: ScrapeTargetLabels): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, sdEntryText(address, labels));
}

/** Removes the entry; one already gone (a job epilogue cleaned the folder) is fine. */
export async function removeSdEntry(file: string): Promise<void> {
  try {
    await fs.promises.unlink(file);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}
