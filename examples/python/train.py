#!/usr/bin/env python3
"""A stdlib-only training loop that reports to codex-telemetry.

It writes NDJSON schema v1 (docs/ndjson-schema.md) to the file named by CODEX_METRICS_OUT (train)
and CODEX_EVAL_METRICS_OUT (eval), one flushed line per scalar, so `codex-telemetry run` (or `tail`)
re-exports every step to TensorBoard, W&B offline, Prometheus and OTLP while it samples the host.
Checkpoints are fake bytes; when CODEX_TELEMETRY_BIN is set, each one gets a run manifest through
`codex-telemetry manifest`. Copy the `MetricsWriter` and `save_checkpoint` parts into a real trainer.

    CODEX_METRICS_OUT=metrics.ndjson python3 train.py --steps 20
    codex-telemetry run -- python3 train.py --plain-json --diverge-at 30   # bare NaN, as json.dumps writes
    codex-telemetry run --out runs/demo -- python3 train.py --steps 1000 --checkpoint-every 250
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import secrets
import shlex
import signal
import string
import subprocess
import sys
import time
from typing import IO, Dict, List, Optional

SCHEMA_VERSION = 1
# Non-finite values are written as these strings: JSON has no NaN, and the schema says so.
NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}
# Exit statuses a shell gives to a process killed by these signals (128 + signal number).
EXIT_ON_SIGNAL = {signal.SIGTERM: 143, signal.SIGINT: 130}
MANIFEST_TIMEOUT_S = 60


def new_run_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(8))


def json_value(value: float):
    if math.isnan(value):
        return "NaN"
    return NON_FINITE.get(value, value)


class MetricsWriter:
    """Appends one schema v1 line per scalar and flushes it, so a tailing reader sees whole lines
    as soon as they are logged (each line reaches the file in one write)."""

    def __init__(self, path: str, run_id: str, phase: str, tags: Dict[str, int]) -> None:
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        self.path = path
        self.run_id = run_id
        self.tags = {"phase": phase, **tags}
        self.lines = 0
        self._file: Optional[IO[str]] = open(path, "a", encoding="utf-8")

    def log(self, step: int, scalars: Dict[str, float]) -> None:
        if self._file is None:
            raise ValueError(f"{self.path} is closed")
        ts = round(time.time(), 6)
        text = "".join(
            json.dumps(
                {
                    "v": SCHEMA_VERSION,
                    "ts": ts,
                    "run_id": self.run_id,
                    "step": int(step),
                    "name": name,
                    "value": json_value(float(value)),
                    "tags": self.tags,
                },
                ensure_ascii=False,
                allow_nan=False,
                separators=(",", ":"),
            )
            + "\n"
            for name, value in scalars.items()
        )
        self._file.write(text)
        self._file.flush()
        self.lines += len(scalars)

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


class PlainWriter(MetricsWriter):
    """What most trainers already do: one flat row per step through Python's default json.dumps,
    which writes non-finite floats as the bare tokens NaN, Infinity and -Infinity. The bridge reads
    them as non-finite values; nothing here needs to know the schema."""

    def log(self, step: int, scalars: Dict[str, float]) -> None:
        if self._file is None:
            raise ValueError(f"{self.path} is closed")
        row = {"step": int(step), "phase": self.tags["phase"], **{k: float(v) for k, v in scalars.items()}}
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        self.lines += 1


def rank_tags() -> Dict[str, int]:
    """rank / local_rank / world_size as torchrun sets them, in multi-process runs only."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return {}
    return {
        "rank": int(os.environ.get("RANK", "0")),
        "local_rank": int(os.environ.get("LOCAL_RANK", "0")),
        "world_size": world,
    }


def save_checkpoint(directory: str, step: int, run_id: str, archive_metrics: bool) -> str:
    """Writes a fake checkpoint atomically, then asks codex-telemetry for its run manifest. The
    manifest is provenance, best-effort: nothing here may fail the training run."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"ckpt-{step}.pt")
    temp = f"{path}.tmp"
    with open(temp, "wb") as handle:
        handle.write(step.to_bytes(8, "little") + random.randbytes(4096))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)

    telemetry_bin = os.environ.get("CODEX_TELEMETRY_BIN")
    if telemetry_bin:
        command = shlex.split(telemetry_bin) + [
            "manifest",
            path,
            "--step",
            str(step),
            "--run-id",
            run_id,
            "--python-version",
            platform.python_version(),
        ]
        if archive_metrics:
            command.append("--archive-metrics")
        try:
            subprocess.run(command, check=False, timeout=MANIFEST_TIMEOUT_S, stdout=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as error:
            print(f"train.py: warning: no run manifest for {path}: {error}", file=sys.stderr)
    return path


def on_signal(signum: int, _frame) -> None:
    # A second signal must not interrupt the flush below, so stop listening first.
    for other in EXIT_ON_SIGNAL:
        signal.signal(other, signal.SIG_IGN)
    # Unwinds to main's `finally`, which flushes and closes the streams before the exit.
    raise SystemExit(EXIT_ON_SIGNAL[signal.Signals(signum)])


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    parser.add_argument("--eval-every", type=int, default=10, help="eval every N steps; 0 = never (default 10)")
    parser.add_argument("--checkpoint-every", type=int, default=0, help="checkpoint every N steps; 0 = never")
    parser.add_argument("--checkpoint-dir", default="checkpoints", help="where checkpoints go (default checkpoints)")
    parser.add_argument("--archive-metrics", action="store_true", help="archive the streams with each checkpoint")
    parser.add_argument("--step-delay", type=float, default=0.0, help="seconds to sleep per step (default 0)")
    parser.add_argument("--exit-code", type=int, default=0, help="exit status at the end (default 0)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--plain-json", action="store_true", help="write flat rows with Python's default json (bare NaN tokens)"
    )
    parser.add_argument(
        "--diverge-at", type=int, default=-1, help="from this step on, loss is NaN and grad_norm Infinity"
    )
    return parser.parse_args(argv)


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    for signum in EXIT_ON_SIGNAL:
        signal.signal(signum, on_signal)
    random.seed(args.seed)
    run_id = os.environ.get("CODEX_RUN_ID") or new_run_id()
    tags = rank_tags()
    writer = PlainWriter if args.plain_json else MetricsWriter
    train = writer(os.environ.get("CODEX_METRICS_OUT", ".codex/metrics.ndjson"), run_id, "train", tags)
    evaluation: Optional[MetricsWriter] = None
    try:
        if args.eval_every > 0:
            eval_path = os.environ.get("CODEX_EVAL_METRICS_OUT", ".codex/eval_metrics.ndjson")
            evaluation = writer(eval_path, run_id, "eval", tags)
        for step in range(args.steps):
            progress = step / max(1, args.steps - 1)
            loss = 2.5 * math.exp(-3.0 * progress) + random.gauss(0.0, 0.02)
            lr = 3e-4 * 0.5 * (1.0 + math.cos(math.pi * progress))
            grad_norm = abs(random.gauss(1.0, 0.1))
            if 0 <= args.diverge_at <= step:
                loss, grad_norm = math.nan, math.inf
            train.log(step, {"loss": loss, "lr": lr, "grad_norm": grad_norm})
            if evaluation is not None and (step + 1) % args.eval_every == 0:
                evaluation.log(step, {"loss": loss * 1.1, "accuracy": 1.0 - loss / 3.0})
            if args.checkpoint_every > 0 and (step + 1) % args.checkpoint_every == 0:
                save_checkpoint(args.checkpoint_dir, step, run_id, args.archive_metrics)
            if args.step_delay > 0:
                time.sleep(args.step_delay)
        print(f"train.py: run {run_id}, {args.steps} steps, {train.lines} train lines", flush=True)
    finally:
        train.close()
        if evaluation is not None:
            evaluation.close()
    return args.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
