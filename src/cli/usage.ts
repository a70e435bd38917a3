/** Usage texts of `codex-telemetry`, global and per command, built from the option table. */
import { MANIFEST_USAGE } from './manifest-usage.js';
import { optionHelp, type SinkCommand } from './options.js';

export const USAGE = `Usage: codex-telemetry <command> [options]

Commands:
  demo                      synthetic training run writing every sink, serving /metrics
  run [options] -- CMD ...  run a trainer, re-export the NDJSON it writes to $CODEX_METRICS_OUT
  tail [options] FILE...    replay / follow NDJSON files into every sink
  manifest CHECKPOINT       write run_manifest.json beside a checkpoint (1 if nothing written)
  wandb ls [DIR]            list W&B offline runs: size, records, complete, synced
  dashboard [RUN]...        live training curves in the browser (--port P, --host H)

Every command takes --help. -V, --version prints the version.
Settings not given as flags come from the environment (README, "Configuration").
`;

const HEADS: Record<SinkCommand, string> = {
  demo: `Usage: codex-telemetry demo [options]

A synthetic training run that writes every sink (NDJSON, TensorBoard, W&B offline, /metrics),
then prints a table of sinks: written (with the path) or DOWN (with the reason). Exits 1 when no
sink wrote anything.`,
  run: `Usage: codex-telemetry run [options] -- CMD [ARGS...]

Runs the trainer CMD with CODEX_METRICS_OUT, CODEX_EVAL_METRICS_OUT and CODEX_RUN_ID in its
environment: the trainer must append its NDJSON rows to $CODEX_METRICS_OUT (eval rows to
$CODEX_EVAL_METRICS_OUT). Those files are re-exported to every sink as they grow. Exits with the
trainer's exit code; if run itself fails, the trainer is stopped (SIGTERM, then SIGKILL).
Ctrl-C (or SIGTERM to run) is passed on to the trainer; a second within 5 s sends SIGTERM to its
process group, a third SIGKILL.`,
  tail: `Usage: codex-telemetry tail [options] FILE...

Replays NDJSON files (globs are expanded; a rotated stream's segments are read once, in order)
into every sink. Without --follow it reads what is there and exits.`,
};

export function commandUsage(cmd: SinkCommand | 'manifest' | 'wandb'): string {
  if (cmd === 'manifest') return MANIFEST_USAGE;
  if (cmd === 'wandb')
    return `Usage: codex-telemetry wandb ls [DIR]

Lists the W&B offline runs under DIR (default: $WANDB_DIR, else ./wandb): size, records, whether
the run finished, whether it was synced.
`;
  return `${HEADS[cmd]}\n\nOptions:\n${optionHelp(cmd)}\n`;
}
