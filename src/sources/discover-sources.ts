/**
 * Finds the runs below the inputs (folders, files, globs), of every kind or of the one kind
 * `--source` names:
 *
 * - NDJSON streams (`*.ndjson`, `*.ndjson.gz`), resolved as `codex-ndjson summarize` always has;
 * - TensorBoard runs: each folder holding `events.out.tfevents.*` files is one run, named as
 *   TensorBoard names it (its path below the input; the input folder itself by its own name);
 * - W&B runs: `offline-run-*` and `run-*` folders with a `run-<id>.wandb` log (an
 *   `offline-run-*` folder without one is still listed, so its reader can say so).
 *
 * An explicit file is read by the reader its name calls for, or the one `--source` forces.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode, UsageError } from '../errors.js';
import { expandGlob, GLOB_CHARS, listDir } from '../ndjson/glob.js';
import { resolveInputs } from '../ndjson/resolve-inputs.js';
import type { SourceKind } from './run-source.js';
import { EVENT_FILE, WANDB_LOG } from './run-files.js';

export interface RunSpec {
  kind: 'tfevents' | 'wandb';
  /** The run's folder, or the one file named. */
  path: string;
  name: string;
}

export interface SourcePlan {
  /** NDJSON files to read, in order (segments before their active file). */
  ndjson: string[];
  runs: RunSpec[];
}

const NDJSON_FILE = /\.ndjson(\.gz)?$/;
/** A W&B run folder's name: `offline-run-<date>_<time>-<id>`, or `run-…` for one that synced. */
const WANDB_RUN_DIR = /^(offline-run-|run-\d{8}_\d{6}-)/;

/** The kind an explicit file is read as. */
export function kindOfFile(file: string, forced?: SourceKind): SourceKind {
  if (forced !== undefined) return forced;
  const base = path.basename(file);
  if (EVENT_FILE.test(base)) return 'tfevents';
  if (WANDB_LOG.test(base) || base.endsWith('.wandb')) return 'wandb';
  return 'ndjson';
}

function byName(a: fs.Dirent, b: fs.Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Run name relative to the input folder; the folder itself goes by its own name. */
function runName(dir: string, base: string): string {
  const relative = path.relative(path.resolve(base), path.resolve(dir));
  const name = relative === '' || relative.startsWith('..') ? path.basename(path.resolve(dir)) : relative;
  return name.split(path.sep).join('/');
}

function walk(dir: string, base: string, kinds: ReadonlySet<SourceKind>, plan: SourcePlan): void {
  const entries = listDir(dir).sort(byName);
  if (kinds.has('wandb') && WANDB_RUN_DIR.test(path.basename(dir))) {
    if (
      entries.some((e) => e.isFile() && WANDB_LOG.test(e.name)) ||
      path.basename(dir).startsWith('offline-run-')
    ) {
      plan.runs.push({ kind: 'wandb', path: dir, name: path.basename(dir) });
      return;
    }
  }
  if (kinds.has('tfevents') && entries.some((e) => e.isFile() && EVENT_FILE.test(e.name))) {
    plan.runs.push({ kind: 'tfevents', path: dir, name: runName(dir, base) });
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    // Symbolic links (W&B's `latest-run`) are not followed: the run they point to is listed once.
    if (entry.isDirectory()) walk(full, base, kinds, plan);
    else if (entry.isFile() && kinds.has('ndjson') && NDJSON_FILE.test(entry.name)) plan.ndjson.push(full);
  }
}

function describeKinds(kinds: ReadonlySet<SourceKind>): string {
  const names: Record<SourceKind, string> = {
    ndjson: '*.ndjson or *.ndjson.gz file',
    tfevents: 'TensorBoard event file (events.out.tfevents.*)',
    wandb: 'W&B run (offline-run-*/run-*.wandb)',
  };
  return [...kinds].map((kind) => names[kind]).join(', ');
}

/**
 * The TensorBoard and W&B runs under the inputs, for a reader that looks again later (the
 * dashboard): an input that holds none yet is no error.
 */
export function discoverRuns(inputs: readonly string[], source?: SourceKind): RunSpec[] {
  if (source === 'ndjson') return [];
  const runs: RunSpec[] = [];
  for (const input of inputs) {
    let plan: SourcePlan;
    try {
      plan = discoverSources([input], source);
    } catch (error) {
      if (error instanceof UsageError) continue;
      throw error;
    }
    for (const run of plan.runs) if (!runs.some((r) => r.path === run.path)) runs.push(run);
  }
  return runs;
}

/** Runs under the inputs, each once, in input order. Throws UsageError naming an input that yields nothing. */
export function discoverSources(inputs: readonly string[], source?: SourceKind): SourcePlan {
  const kinds = new Set<SourceKind>(source === undefined ? ['ndjson', 'tfevents', 'wandb'] : [source]);
  const plan: SourcePlan = { ndjson: [], runs: [] };
  for (const input of inputs) {
    const found: SourcePlan = { ndjson: [], runs: [] };
    const matched = GLOB_CHARS.test(input) && !fs.existsSync(input) ? expandGlob(input) : [input];
    for (const candidate of matched) {
      let stat: fs.Stats;
      try {
        stat = fs.statSync(candidate);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') continue;
        throw error;
      }
      if (stat.isDirectory()) {
        walk(candidate, candidate, kinds, found);
        continue;
      }
      const kind = kindOfFile(candidate, source);
      if (kind === 'ndjson') found.ndjson.push(...resolveInputs([candidate]));
      else
        found.runs.push({
          kind,
          path: candidate,
          name: runName(path.dirname(candidate), path.dirname(candidate)),
        });
    }
    if (found.ndjson.length === 0 && found.runs.length === 0) {
      throw new UsageError(
        GLOB_CHARS.test(input)
          ? `${input}: the pattern matches no file`
          : fs.existsSync(input)
            ? `${input}: the directory holds no ${describeKinds(kinds)}`
            : `${input}: no such file or directory`,
      );
    }
    for (const file of found.ndjson) if (!plan.ndjson.includes(file)) plan.ndjson.push(file);
    for (const run of found.runs) if (!plan.runs.some((r) => r.path === run.path)) plan.runs.push(run);
  }
  return plan;
}
