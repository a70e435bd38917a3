/**
 * Which streams the dashboard shows: the inputs (run folders, NDJSON files, globs) expanded the way
 * `codex-ndjson summarize` expands them, then grouped. Rotated segments (`metrics.000001.ndjson`,
 * `.ndjson.gz`) belong to their active file's stream; `metrics.rankN.ndjson` is rank N of the run;
 * `metrics*.ndjson` and `eval_metrics*.ndjson` of one folder (or of its `.codex/`) are one run.
 * Called again every few seconds, so runs and ranks that appear later are picked up.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode, UsageError } from '../errors.js';
import { resolveInputs } from '../ndjson/resolve-inputs.js';

export interface StreamSpec {
  /** The active file's path (it may not exist yet, when only segments are left). */
  activePath: string;
  run: string;
  rank: number;
  /** The run folder's name, for runs found inside the stream by their run id (run-names.ts). */
  folder?: string;
  /** The run id a per-run file is named after (`metrics.<id>.ndjson`: another run held the file). */
  runId?: string;
}

const STREAM = /^(.*?)(?:\.\d{6,})?\.ndjson(?:\.gz)?$/;
const RANK = /\.rank(\d+)$/;
/**
 * Streams of one run folder: the trainer's, the eval stream, and the bridge's system samples,
 * with a rank (`.rank1`) and, for a run that found the file held by another, its run id.
 */
const RUN_STREAMS = /^(metrics|eval_metrics|bridge_system)((?:\.[^.]+)*)$/;

/**
 * The stream a file belongs to, or undefined for a file that is not NDJSON. Run names are paths
 * relative to `base` (the folder the user named), or that folder's own name for the run it holds.
 */
export function streamOf(file: string, base = process.cwd()): StreamSpec | undefined {
  const match = STREAM.exec(file);
  if (match === null) return undefined;
  const stem = match[1] as string;
  const activePath = `${stem}.ndjson`;
  const dir = path.dirname(stem);
  const runDir = path.basename(dir) === '.codex' ? path.dirname(dir) : dir;
  let folder = path.relative(path.resolve(base), path.resolve(runDir));
  if (folder === '' || folder.startsWith('..')) folder = path.basename(path.resolve(runDir));
  folder = folder.split(path.sep).join('/');
  const known = RUN_STREAMS.exec(path.basename(stem));
  if (known === null) {
    const rankMatch = RANK.exec(path.basename(stem));
    const streamName = path.basename(stem).replace(RANK, '');
    const run = `${folder}/${streamName}`;
    return { activePath, run, rank: rankMatch === null ? 0 : Number(rankMatch[1]), folder: run };
  }
  // `.rank1`, `.<runId>` and `.rank1.<runId>` in any order: the rank part is the rank, the rest the id.
  const parts = (known[2] as string).split('.').filter((p) => p !== '');
  const rankPart = parts.find((p) => /^rank\d+$/.test(p));
  const rank = rankPart === undefined ? 0 : Number(rankPart.slice(4));
  const runId = parts.filter((p) => p !== rankPart).join('.');
  if (runId === '') return { activePath, run: folder, rank, folder };
  return { activePath, run: `${folder} · ${runId}`, rank, folder, runId };
}

/** Streams under the inputs, each once, in input order. Inputs that match nothing yet are skipped. */
export function discoverStreams(inputs: readonly string[]): StreamSpec[] {
  const seen = new Map<string, StreamSpec>();
  for (const input of inputs) {
    let files: string[];
    try {
      files = resolveInputs([input]);
    } catch (error) {
      if (error instanceof UsageError) continue;
      throw error;
    }
    const base = inputBase(input);
    for (const file of files) {
      const spec = streamOf(file, base);
      if (spec !== undefined && !seen.has(spec.activePath)) seen.set(spec.activePath, spec);
    }
  }
  return [...seen.values()];
}

/** The folder an input names: itself, a file's folder, or a glob's fixed prefix. */
export function inputBase(input: string): string {
  const parts = input.split(/[\\/]/);
  const glob = parts.findIndex((p) => /[*?[]/.test(p));
  const fixed = glob === -1 ? input : parts.slice(0, glob).join('/') || '.';
  let dir = fixed;
  try {
    if (!fs.statSync(fixed).isDirectory()) dir = path.dirname(fixed);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  return path.basename(dir) === '.codex' ? path.dirname(dir) : dir;
}

/** An input that is neither a glob nor an existing path is a typo, not a run that will appear. */
export function checkInputs(inputs: readonly string[]): string | undefined {
  for (const input of inputs) {
    if (/[*?[]/.test(input)) continue;
    if (!fs.existsSync(input)) return `${input}: no such file or directory`;
  }
  return undefined;
}
