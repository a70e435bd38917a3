/**
 * A TensorBoard or W&B run reader with its run index (source-index.ts): what a caller that opens
 * large runs from their index needs of either kind, so it does not care which it reads.
 */
import type { SeriesDef } from '../run-index/index-builder.js';
import type { RunSpec } from './discover-sources.js';
import type { LiveRunReader } from './run-source.js';
import { loadTfeventsIndex, writeTfeventsIndex } from './tfevents/tfevents-index.js';
import { TfeventsRunReader, type TfeventsResumeState } from './tfevents/tfevents-run-reader.js';
import { loadWandbIndex, writeWandbIndex } from './wandb/wandb-index.js';
import { WandbRunReader, type WandbResumeState } from './wandb/wandb-run-reader.js';
import type { RunSink } from './run-source.js';

export interface IndexBuckets {
  defs: SeriesDef[];
  records: Float64Array;
}

/** A run index that still describes the run's files, as loaded (nothing taken in yet). */
export type LoadedRunIndex = IndexBuckets & { state: object; indexedBytes: number };

export interface IndexedRun {
  readonly reader: LiveRunReader;
  /** Byte position, in the run, of the record being read (where the index places its scalars). */
  readonly position: number;
  /** Run bytes read from disk so far. */
  readonly bytesRead: number;
  /** The run's files now, in reading order. */
  files(): string[];
  /** Where the reader stands (plain data: it crosses threads), for `resume` in another reader of the run. */
  save(): unknown;
  /** Before the first poll: goes on from what `save` gave (the files must be unchanged up to there). */
  resume(state: unknown): void;
  /**
   * The run's index when one still describes `files`, without taking it in: a caller can see how
   * much of the run it covers before choosing where to read (`resume(index.state)` takes it in).
   */
  loadIndex(files: readonly string[], env?: NodeJS.ProcessEnv, variant?: string): LoadedRunIndex | undefined;
  /**
   * Before the first poll: the reader goes on after the index, when one still describes `files`;
   * its buckets, and the state it was written with (`extra` of writeIndex included). `variant`
   * names another index of the run (summarize's `.summary`).
   */
  resumeFromIndex(
    files: readonly string[],
    env?: NodeJS.ProcessEnv,
    variant?: string,
  ): LoadedRunIndex | undefined;
  /** After a poll: writes the run's index, the reader's resume point (with `extra`) and `buckets`. */
  writeIndex(
    buckets: IndexBuckets,
    env?: NodeJS.ProcessEnv,
    onWarning?: (message: string) => void,
    variant?: string,
    extra?: object,
  ): void;
}

export function openIndexedRun(spec: RunSpec, sink: RunSink): IndexedRun {
  const options = { path: spec.path, name: spec.name, sink };
  if (spec.kind === 'tfevents') {
    const reader = new TfeventsRunReader(options);
    return {
      reader,
      get position() {
        return reader.position;
      },
      get bytesRead() {
        return reader.bytesRead;
      },
      files: () => reader.listFiles(),
      save: () => reader.save(),
      resume: (state) => reader.resume(state as TfeventsResumeState),
      loadIndex: (files, env, variant) => loadTfeventsIndex(spec.path, reader.single, files, env, variant),
      resumeFromIndex(files, env, variant) {
        const index = this.loadIndex(files, env, variant);
        if (index !== undefined) this.resume(index.state);
        return index;
      },
      writeIndex(buckets, env, onWarning, variant, extra) {
        const state = { ...reader.save(), ...extra };
        writeTfeventsIndex(spec.path, reader.single, { ...buckets, state }, env, onWarning, variant);
      },
    };
  }
  const reader = new WandbRunReader(options);
  return {
    reader,
    get position() {
      return reader.position;
    },
    get bytesRead() {
      return reader.bytesRead;
    },
    files: () => reader.findFiles(),
    save: () => reader.save(),
    resume: (state) => reader.resume(state as WandbResumeState),
    loadIndex(files, env, variant) {
      const log = files[0];
      return log === undefined ? undefined : loadWandbIndex(log, env, variant);
    },
    resumeFromIndex(files, env, variant) {
      const index = this.loadIndex(files, env, variant);
      if (index !== undefined) this.resume(index.state);
      return index;
    },
    writeIndex(buckets, env, onWarning, variant, extra) {
      const log = reader.files[0];
      const state = { ...reader.save(), ...extra };
      if (log !== undefined) writeWandbIndex(log, { ...buckets, state }, env, onWarning, variant);
    },
  };
}
