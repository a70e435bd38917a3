/**
 * Puts the train and eval rows of several files back in step order before they reach the sinks.
 *
 * A trainer writes train rows to one file and eval rows to another, in step order. The bridge
 * reads the files one after the other, so a poll can catch an eval row at step 100 in the eval
 * file while the train rows of steps 98–100, written just before it, landed in the train file
 * after the bridge had read that file. Ingested as read, the eval row would reach W&B first, and
 * W&B's history (one step that only increases) would have no row of its own for steps 98 and 99.
 *
 * Every line written before a row that was read in poll N has been read by the end of poll N + 1.
 * So rows wait one poll: at the end of each poll, the rows held since an earlier poll set a step
 * watermark, and every row at or below it (held or just read) goes out sorted by step; the rest
 * waits. With one file there is nothing to reorder, and rows pass straight through.
 */
import type { Step } from '../step.js';

export interface OrderedRow {
  step: Step;
}

/** Held rows beyond which a backlog read in one poll is released as it is (bounded memory). */
export const HOLD_MAX_ROWS = 65_536;

interface Held<R> {
  row: R;
  /** The poll that read it. */
  poll: number;
}

export class StepOrderBuffer<R extends OrderedRow> {
  /** Per file, its rows in the order read: a file's own order is never changed (a resumed run's
   * steps going back stay as written), only files are interleaved. */
  private readonly queues: Held<R>[][];
  private poll = 0;
  private size = 0;

  /** `files`: train/eval files read each poll; with one, rows are released as they come. */
  constructor(
    files: number,
    private readonly release: (row: R) => void,
  ) {
    this.queues = Array.from({ length: Math.max(1, files) }, () => []);
  }

  add(file: number, row: R): void {
    if (this.queues.length < 2) {
      this.release(row);
      return;
    }
    (this.queues[file] as Held<R>[]).push({ row, poll: this.poll });
    if (++this.size > HOLD_MAX_ROWS) this.releaseAll();
  }

  /** The end of a poll: releases every row at or below the highest step held since an earlier poll. */
  endPoll(): void {
    let watermark: Step | undefined;
    for (const queue of this.queues) {
      for (const held of queue) {
        if (held.poll === this.poll) break;
        if (watermark === undefined || held.row.step > watermark) watermark = held.row.step;
      }
    }
    this.poll++;
    if (watermark !== undefined) this.drain(watermark);
  }

  /** Everything held (at the end of the input, or to bound memory). */
  releaseAll(): void {
    this.drain(undefined);
  }

  /**
   * Merges the files by step: the queue whose first row has the lowest step goes next, as long as
   * that step is within `upTo` (undefined: no limit). A file's later rows never pass its first.
   */
  private drain(upTo: Step | undefined): void {
    for (;;) {
      let next: Held<R>[] | undefined;
      for (const queue of this.queues) {
        const head = queue[0];
        if (head === undefined || (upTo !== undefined && head.row.step > upTo)) continue;
        if (next === undefined || head.row.step < (next[0] as Held<R>).row.step) next = queue;
      }
      if (next === undefined) return;
      this.size--;
      this.release((next.shift() as Held<R>).row);
    }
  }
}
