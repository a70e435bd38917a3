/**
 * What `run` does with the signals it receives (SIGINT from Ctrl-C, SIGTERM, SIGHUP), so a trainer
 * that ignores one cannot leave both processes running:
 * - the first is passed on to the trainer's process group as it came;
 * - another within ESCALATE_WINDOW_MS sends SIGTERM to the group, and says so;
 * - a third within the window sends SIGKILL to the group, and says so.
 * A signal after a quiet window starts over. The trainer runs in a process group of its own
 * (spawned detached), so the group is the trainer and the workers it started, and nothing else.
 */
import type { ChildProcess } from 'node:child_process';
import { errnoCode } from '../errors.js';

/** How close together repeated signals must come to escalate. */
export const ESCALATE_WINDOW_MS = 5000;

/** Sends `signal` to the child's process group, or to the child alone if it leads none. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    // ESRCH: the group is gone (or was never one): the child itself, if it is still there.
    if (errnoCode(error) !== 'ESRCH') throw error;
    child.kill(signal);
  }
}

export class SignalEscalation {
  private count = 0;
  private lastMs = -Infinity;

  constructor(
    private readonly say: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Acts on one received signal; returns what was sent. */
  receive(child: ChildProcess, received: NodeJS.Signals): NodeJS.Signals {
    const nowMs = this.now();
    this.count = nowMs - this.lastMs <= ESCALATE_WINDOW_MS ? this.count + 1 : 1;
    this.lastMs = nowMs;
    const pid = child.pid ?? 0;
    if (this.count === 1) {
      signalGroup(child, received);
      this.say(
        `codex-telemetry: passed ${received} on to the trainer (pid ${pid}); another signal within ${ESCALATE_WINDOW_MS / 1000} s sends SIGTERM`,
      );
      return received;
    }
    const sent: NodeJS.Signals = this.count === 2 ? 'SIGTERM' : 'SIGKILL';
    signalGroup(child, sent);
    this.say(
      `codex-telemetry: ${received} again: sent ${sent} to the trainer's process group (pgid ${pid})` +
        (sent === 'SIGTERM' ? `; another within ${ESCALATE_WINDOW_MS / 1000} s sends SIGKILL` : ''),
    );
    return sent;
  }
}
