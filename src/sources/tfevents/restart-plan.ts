/**
 * TensorBoard's rule for a run that restarted from a checkpoint: a value of a tag at step s drops
 * the values of that tag read before it whose step is ≥ s (both TensorBoard loaders do this per
 * tag: the Python EventAccumulator's out-of-order purge and the Rust data server's reservoir
 * preemption). So a tag's steps, once read, only increase.
 *
 * Without holding every value, a reader cannot take back what it has handed on; instead it notes
 * each restart (where it was read and its step), and when a read brings new ones, the run is read
 * again from the start with the plan, which tells for each value whether a later restart drops it.
 * Runs without restarts (most) are read once; memory is a few numbers per tag and per restart.
 */

interface TagPlan {
  /** Step of the latest value read. */
  last: number;
  /** Restarts in reading order: ordinal of the value and its step. */
  ordinals: number[];
  steps: number[];
  /** suffixMin[k] = the smallest step of restarts k and later. */
  suffixMin: number[];
  /** Next restart (index) after the value being read, while a read goes on. */
  cursor: number;
}

/** What a plan knows after a pass, per tag: latest step and restarts (ordinal, step), for a run index. */
export type RestartPlanState = Array<[tag: string, last: number, ordinals: number[], steps: number[]]>;

export class RestartPlan {
  private readonly tags = new Map<string, TagPlan>();
  private added = 0;

  /** The plan after the values read so far (a reader that goes on later takes it up with `restore`). */
  save(): RestartPlanState {
    return [...this.tags].map(([tag, plan]) => [tag, plan.last, [...plan.ordinals], [...plan.steps]]);
  }

  /** Takes up a saved plan: the next value offered is the one after the last read when it was saved. */
  restore(state: RestartPlanState): void {
    this.tags.clear();
    this.added = 0;
    for (const [tag, last, ordinals, steps] of state) {
      const suffixMin = [...steps];
      for (let k = suffixMin.length - 2; k >= 0; k--)
        suffixMin[k] = Math.min(suffixMin[k] as number, suffixMin[k + 1] as number);
      // Every restart noted lies before the values still to come: the cursor is past them all.
      this.tags.set(tag, {
        last: typeof last === 'number' ? last : NaN,
        ordinals: [...ordinals],
        steps: [...steps],
        suffixMin,
        cursor: ordinals.length,
      });
    }
  }

  /** Restarts noted since the last `takeAdded()`. */
  takeAdded(): number {
    const added = this.added;
    this.added = 0;
    return added;
  }

  /** A new pass over the run starts: cursors go back, steps read are forgotten. */
  rewind(): void {
    for (const plan of this.tags.values()) {
      plan.cursor = 0;
      plan.last = NaN;
    }
  }

  /**
   * One value of `tag` at `step`, the `ordinal`-th value of the run in reading order. Returns
   * whether it is kept (no later restart of the tag is at or below its step); notes it as a restart
   * when it is at or below the tag's latest step.
   */
  offer(tag: string, ordinal: number, step: number): boolean {
    let plan = this.tags.get(tag);
    if (plan === undefined) {
      plan = { last: NaN, ordinals: [], steps: [], suffixMin: [], cursor: 0 };
      this.tags.set(tag, plan);
    }
    if (step <= plan.last && !plan.ordinals.includes(ordinal)) this.note(plan, ordinal, step);
    plan.last = step;
    while (plan.cursor < plan.ordinals.length && (plan.ordinals[plan.cursor] as number) <= ordinal)
      plan.cursor++;
    return plan.cursor >= plan.ordinals.length || step < (plan.suffixMin[plan.cursor] as number);
  }

  private note(plan: TagPlan, ordinal: number, step: number): void {
    plan.ordinals.push(ordinal);
    plan.steps.push(step);
    plan.suffixMin.push(step);
    for (let k = plan.suffixMin.length - 2; k >= 0 && (plan.suffixMin[k] as number) > step; k--) {
      plan.suffixMin[k] = step;
    }
    this.added++;
  }
}
