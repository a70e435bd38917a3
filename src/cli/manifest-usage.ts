/**
 * `codex-telemetry manifest --help`, apart from the command: every CLI start shows or checks usage
 * text, and the command's own module loads the manifest writer (and @opentelemetry/api with it),
 * ~60 ms of module parsing that a dashboard or demo start does not need.
 */
export const MANIFEST_USAGE = `Usage: codex-telemetry manifest CHECKPOINT [options]

Writes CHECKPOINT.run_manifest.json beside a checkpoint file (run_manifest.json inside a checkpoint
folder) and prints its path. Exits 0 when written, 1 when nothing was written (the reason on
stderr), 2 on a usage error. A trainer calling it should ignore the status: provenance must never
fail training. Without --run-id or CODEX_RUN_ID, the run id (and step) of a manifest already
beside the checkpoint are kept.

  --step N               training step (int64)
  --run-id ID            run id (default: CODEX_RUN_ID, set by "codex-telemetry run")
  --python-version X     the trainer's Python version (default: CODEX_PYTHON_VERSION)
  --sha256               hash the checkpoint (off by default: checkpoints can be many GB)
  --archive-metrics      copy the metric streams beside the checkpoint, listed with digests
  --metrics-out FILE     a stream to archive, rotated segments included (repeatable; default:
                         CODEX_METRICS_OUT and CODEX_EVAL_METRICS_OUT, else .codex/*.ndjson)
  --project-root DIR     where lock files are looked for (default: the working directory)
  --env NAME             also record this environment variable when set (repeatable;
                         CODEX_MANIFEST_ENV may list more, comma-separated)
  --manifest-path FILE   write the manifest here instead
  -h, --help             show this help
  -V, --version          print the version
`;
