/**
 * The run index of a TensorBoard run (`.tfevents.idx` in the run's folder, or
 * `.<event file>.idx` beside a single event file; in the cache folder when that folder cannot be
 * written): the foreign-run index of ../source-index.ts, whose resume state is the reader's: per
 * event file its offset, record count and search state, and the restart plan, tag kinds and
 * not-shown tags, so reading goes on after the indexed bytes exactly as one reader would. The
 * state names event files by their names, so a run folder that moved keeps its index.
 */
import path from 'node:path';
import type { SeriesDef } from '../../run-index/index-builder.js';
import { loadSourceIndex, writeSourceIndex } from '../source-index.js';
import type { TfeventsResumeState } from './tfevents-run-reader.js';

export interface TfeventsIndex {
  path: string;
  defs: SeriesDef[];
  /** Finished buckets of every level (every bucket is finished: each write closes them all). */
  records: Float64Array;
  /** The reader's resume point, paths as the reader names its files. */
  state: TfeventsResumeState;
  /** Event-file bytes the index accounts for. */
  indexedBytes: number;
}

/**
 * The name the index is found under (index-path.ts adds `.idx`, or picks the cache folder);
 * `variant` names another index of the same run (`.summary`: summarize's, see indexed-run.ts).
 */
export function indexKey(runPath: string, single: boolean, variant = ''): string {
  return single
    ? path.join(path.dirname(runPath), `.${path.basename(runPath)}${variant}`)
    : path.join(runPath, `.tfevents${variant}`);
}

/**
 * The index of the run at `runPath`, when one exists and still describes `files` (the run's event
 * files now, in reading order); undefined otherwise.
 */
export function loadTfeventsIndex(
  runPath: string,
  single: boolean,
  files: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  variant = '',
): TfeventsIndex | undefined {
  const key = indexKey(runPath, single, variant);
  const index = loadSourceIndex<TfeventsResumeState>(key, 'tfevents', files, env);
  if (index === undefined) return undefined;
  const byName = new Map(files.map((file) => [path.basename(file), file]));
  const state = index.state;
  return {
    ...index,
    state: {
      ...state,
      files: state.files.map((file) => ({ ...file, path: byName.get(file.path) as string })),
    },
  };
}

/** Writes the index of a run; an index that cannot be kept is told through `onWarning`, not thrown. */
export function writeTfeventsIndex(
  runPath: string,
  single: boolean,
  index: Omit<TfeventsIndex, 'path' | 'indexedBytes'>,
  env: NodeJS.ProcessEnv = process.env,
  onWarning: (message: string) => void = () => undefined,
  variant = '',
): string | undefined {
  return writeSourceIndex(
    indexKey(runPath, single, variant),
    'tfevents',
    {
      run: runPath,
      files: index.state.files,
      state: {
        ...index.state,
        files: index.state.files.map((file) => ({ ...file, path: path.basename(file.path) })),
      },
      defs: index.defs,
      records: index.records,
    },
    env,
    onWarning,
  );
}
