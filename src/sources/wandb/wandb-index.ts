/**
 * The run index of a W&B run: `.run-<id>.wandb.idx` beside its log (in the cache folder when the
 * run folder cannot be written), the foreign-run index of ../source-index.ts tied to the log by
 * inode and CRC-32s of its head and of the bytes before the indexed offset. Its resume state is the
 * reader's (wandb-run-reader.ts): the offset of the next record with the block reader's resync
 * flag, record and row counts, and what the run said of itself up to there (name, id, state, exit
 * code, config, summary, keys not drawn), so reading goes on after the indexed bytes exactly as one
 * reader would.
 */
import path from 'node:path';
import type { SeriesDef } from '../../run-index/index-builder.js';
import { loadSourceIndex, writeSourceIndex, type SourceIndex } from '../source-index.js';
import type { WandbResumeState } from './wandb-run-reader.js';

export type WandbIndex = SourceIndex<WandbResumeState>;

/**
 * The name the index is found under (index-path.ts adds `.idx`, or picks the cache folder);
 * `variant` names another index of the same run (`.summary`: summarize's, see indexed-run.ts).
 */
export function wandbIndexKey(log: string, variant = ''): string {
  return path.join(path.dirname(log), `.${path.basename(log)}${variant}`);
}

/** The index of the log, when one exists and still describes it; undefined otherwise. */
export function loadWandbIndex(
  log: string,
  env: NodeJS.ProcessEnv = process.env,
  variant = '',
): WandbIndex | undefined {
  return loadSourceIndex<WandbResumeState>(wandbIndexKey(log, variant), 'wandb', [log], env);
}

/** Writes the index of a log; an index that cannot be kept is told through `onWarning`, not thrown. */
export function writeWandbIndex(
  log: string,
  index: { defs: SeriesDef[]; records: Float64Array; state: WandbResumeState },
  env: NodeJS.ProcessEnv = process.env,
  onWarning: (message: string) => void = () => undefined,
  variant = '',
): string | undefined {
  return writeSourceIndex(
    wandbIndexKey(log, variant),
    'wandb',
    { run: log, files: [{ path: log, next: index.state.next }], ...index },
    env,
    onWarning,
  );
}
