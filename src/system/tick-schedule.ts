/**
 * When the sampler's ticks are due: tick k at start + k·interval, so a late wake never pushes later
 * ticks back (no drift), and ticks that passed meanwhile are skipped and counted, never bunched.
 */
export class TickSchedule {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private startedAt = 0;
  private index = 0;
  /** Ticks that came due while the sampler was busy (or its thread woke late), never run. */
  skipped = 0;

  constructor(intervalMs: number, now: () => number = () => performance.now()) {
    this.intervalMs = intervalMs;
    this.now = now;
  }

  /** Starts the clock; answers the delay (ms) until tick 1. */
  start(): number {
    this.startedAt = this.now();
    return this.advanceTo(1);
  }

  /**
   * Called when a tick fires: answers the delay until the next tick due. A timer may fire a
   * fraction of a millisecond early, so the next tick is never before the one after this.
   */
  next(): number {
    const elapsed = this.now() - this.startedAt;
    const due = Math.max(this.index + 1, Math.floor(elapsed / this.intervalMs) + 1);
    this.skipped += due - this.index - 1;
    return this.advanceTo(due);
  }

  private advanceTo(k: number): number {
    this.index = k;
    return Math.max(0, this.startedAt + k * this.intervalMs - this.now());
  }
}
