/**
 * Runs a file writer's rotations by one rule, the same for the NDJSON streams and the TensorBoard
 * event files:
 * - the policy is checked after each append, and one rotation runs at a time; one asked for
 *   meanwhile (`rotateNow`) queues behind it; flush and close wait for them (`idle`);
 * - a rotation that fails (a rename refused, a new file that cannot be created) is reported through
 *   `warn`, and the writer keeps writing its current file: no line is lost and the sink stays up.
 *   It is tried again once the file has grown by the bound again (or aged by it), not at every
 *   append. A failure of the file itself (ENOSPC on a write) is the file's to report, as any write.
 */
import { errorText } from '../../errors.js';
import type { RotationPolicy } from './rotation-policy.js';

export class RotationRunner<T> {
  private openedAtMs = Date.now();
  /** Size of the file when a rotation last failed: the bound counts from there. */
  private failedAtBytes = 0;
  private running: Promise<void> | undefined;

  /**
   * `rotate` closes the current file and starts the next (rejecting leaves the current one in use);
   * `describe` names the file in warnings.
   */
  constructor(
    readonly policy: RotationPolicy,
    private readonly rotate: () => Promise<T | undefined>,
    private readonly warn: (message: string) => void,
    private readonly describe: () => string,
  ) {}

  /** After an append: starts a rotation when the policy says so and none is running. */
  check(sizeBytes: number): void {
    if (!this.policy.enabled || this.running !== undefined) return;
    if (!this.policy.shouldRotate(sizeBytes - this.failedAtBytes, this.openedAtMs, Date.now())) return;
    // rotateNow() reports a failed rotation itself; a rejection here would be a bug, said as much.
    this.rotateNow(sizeBytes).catch((error: unknown) =>
      this.warn(`codex-telemetry: rotation bug: ${errorText(error)}`),
    );
  }

  /**
   * Rotates now (after any rotation running). Resolves to what `rotate` gave, or undefined when it
   * failed (reported once through `warn`). Never rejects.
   */
  rotateNow(sizeBytes = 0): Promise<T | undefined> {
    const run = (this.running ?? Promise.resolve()).then(() =>
      this.rotate().then(
        (result) => {
          this.openedAtMs = Date.now();
          this.failedAtBytes = 0;
          return result;
        },
        (error: unknown) => {
          this.openedAtMs = Date.now();
          this.failedAtBytes = sizeBytes;
          this.warn(
            `codex-telemetry: rotating ${this.describe()} failed (${errorText(error)}); still writing it`,
          );
          return undefined;
        },
      ),
    );
    const tracked = run.then(() => undefined);
    this.running = tracked;
    const forget = (): void => {
      if (this.running === tracked) this.running = undefined;
    };
    tracked.then(forget, forget);
    return run;
  }

  /** Resolves when no rotation is running or queued. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }
}
