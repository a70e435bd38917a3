/**
 * Flush on the ways a training process ends:
 * - the event loop drains (`beforeExit`): a full async shutdown;
 * - SIGINT/SIGTERM: async shutdown (bounded), then the signal is re-raised so the process still
 *   dies of it, unless the application installed its own handler for that signal;
 * - `exit` (process.exit(), an uncaught exception): only synchronous work runs, so rows still
 *   queued are encoded and written with blocking writes.
 */
import { diag } from '@opentelemetry/api';

export interface ExitTarget {
  /** Async shutdown; `exitCode` is what the run ends with (W&B exit record). */
  shutdown(exitCode?: number): Promise<void>;
  /** Last-chance synchronous flush. */
  flushSync(exitCode: number): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = { SIGINT: 2, SIGTERM: 15 };
/** Upper bound on flushing after a signal: a stuck disk must not keep a killed job alive. */
const SIGNAL_SHUTDOWN_TIMEOUT_MS = 5000;

export function installExitHooks(target: ExitTarget): () => void {
  let uncaught = false;
  const onBeforeExit = (): void => {
    // shutdown() never rejects; the handler only keeps the no-unhandled-promise rule whole.
    target
      .shutdown(process.exitCode === undefined ? 0 : Number(process.exitCode))
      .catch((error: unknown) => diag.error('codex-telemetry: shutdown at beforeExit failed', error));
  };
  const onExit = (code: number): void => {
    target.flushSync(uncaught && code === 0 ? 1 : code);
  };
  const onUncaught = (): void => {
    uncaught = true;
  };
  const onSignal = (signal: (typeof SIGNALS)[number]): void => {
    const exitCode = 128 + SIGNAL_NUMBERS[signal];
    const others = process.listenerCount(signal) - 1;
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, SIGNAL_SHUTDOWN_TIMEOUT_MS).unref());
    void Promise.race([target.shutdown(exitCode), timeout]).then(
      () => {
        remove();
        if (others === 0) {
          // Nobody else handles this signal: die of it, as the process would have without us.
          process.kill(process.pid, signal);
        }
      },
      (error: unknown) => diag.error('codex-telemetry: shutdown after signal failed', error),
    );
  };
  const signalHandlers = SIGNALS.map((signal) => {
    const handler = (): void => onSignal(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  process.on('beforeExit', onBeforeExit);
  process.on('exit', onExit);
  process.on('uncaughtExceptionMonitor', onUncaught);

  function remove(): void {
    for (const [signal, handler] of signalHandlers) process.removeListener(signal, handler);
    process.removeListener('beforeExit', onBeforeExit);
    process.removeListener('exit', onExit);
    process.removeListener('uncaughtExceptionMonitor', onUncaught);
  }
  return remove;
}
