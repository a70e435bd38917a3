/**
 * Health of the optional sinks, by name (a registry entry's, or a source such as `system` or
 * `nvml`). A sink that fails says so once (a warning naming the sink, the path and what to do),
 * then stays down; the state is exported as the gauge `codex.sink.up{sink}` so a dead sink is
 * visible on dashboards, never silent.
 */
import { diag } from '@opentelemetry/api';

export type WarnFn = (message: string) => void;

export const defaultWarn: WarnFn = (message) => {
  process.emitWarning(message, { code: 'CODEX_TELEMETRY' });
};

export class SinkHealth {
  private readonly states = new Map<string, { up: boolean; reason?: string }>();
  private readonly droppedRows = new Map<string, number>();
  private readonly warn_: WarnFn;

  constructor(warn: WarnFn = defaultWarn) {
    this.warn_ = warn;
  }

  /** A degradation that leaves the sink up (a failed gzip, a link not made): said once by the caller. */
  warn(message: string): void {
    this.warn_(message);
  }

  /** Registers a sink as up. Registering again keeps the current state. */
  register(sink: string): void {
    if (!this.states.has(sink)) this.states.set(sink, { up: true });
  }

  /** Marks a sink down; only the first call per sink warns. Returns true when it was up before. */
  markDown(sink: string, reason: string): boolean {
    const state = this.states.get(sink);
    if (state && !state.up) {
      diag.debug(`codex-telemetry: sink ${sink} still down: ${reason}`);
      return false;
    }
    this.states.set(sink, { up: false, reason });
    this.warn_(
      `codex-telemetry: ${sink} sink disabled: ${reason}. Training continues; other sinks keep writing.`,
    );
    return true;
  }

  /**
   * Marks a sink up again (a network backend that recovered); the next failure warns again.
   * File sinks never call this: once down, they stay down for the run.
   */
  markUp(sink: string): void {
    const state = this.states.get(sink);
    if (state?.up) return;
    this.states.set(sink, { up: true });
    if (state) diag.info(`codex-telemetry: ${sink} sink recovered`);
  }

  /**
   * Rows a sink dropped at its memory cap (a stuck sink). The first drop per sink warns with the
   * reason; the count is exported as `codex.sink.dropped_rows{sink}` and shown in the sink table.
   */
  countDropped(sink: string, rows: number, reason: string): void {
    const before = this.droppedRows.get(sink);
    this.droppedRows.set(sink, (before ?? 0) + rows);
    if (before === undefined)
      this.warn_(
        `codex-telemetry: ${sink} sink dropping rows: ${reason}. They are counted in codex_sink_dropped_rows_total{sink="${sink}"}.`,
      );
  }

  /** Rows dropped at the cap, by sink (only sinks that dropped any). */
  droppedEntries(): Array<[string, number]> {
    return [...this.droppedRows];
  }

  dropped(sink: string): number {
    return this.droppedRows.get(sink) ?? 0;
  }

  /** A recovery worth a line at info level (a stuck sink that writes again). */
  info(message: string): void {
    diag.info(message);
  }

  isUp(sink: string): boolean {
    return this.states.get(sink)?.up ?? false;
  }

  reason(sink: string): string | undefined {
    return this.states.get(sink)?.reason;
  }

  /** Snapshot for gauges and reports: sink name → up. */
  entries(): Array<[string, boolean]> {
    return [...this.states].map(([sink, state]) => [sink, state.up]);
  }
}
