/**
 * Reads one TensorBoard or W&B run with our run reader into plain data: every point per tag (the
 * tag as written: eval metrics get their `eval/` back), the run's facts and the problems reported.
 */
import {
  PHASE_EVAL,
  PHASE_SYSTEM,
  type MetricVisitor,
  type PhaseId,
} from '../../src/ndjson/line/metric-visitor.js';
import { NameTable } from '../../src/ndjson/line/name-table.js';
import type { LiveRunReader, RunSink, SourceProblem } from '../../src/sources/run-source.js';
import { TfeventsRunReader } from '../../src/sources/tfevents/tfevents-run-reader.js';
import { WandbRunReader } from '../../src/sources/wandb/wandb-run-reader.js';

export interface Point {
  step: number | bigint;
  ts: number;
  value: number;
}

export interface CollectedRun {
  reader: LiveRunReader & { finish(): void };
  points: Map<string, Point[]>;
  problems: SourceProblem[];
  /** Times the reader asked to forget what it gave (a restart read again). */
  resets: number;
}

export function collector(kind: 'tfevents' | 'wandb', runPath: string, chunkBytes?: number): CollectedRun {
  const names = new NameTable();
  const out: CollectedRun = { reader: undefined as never, points: new Map(), problems: [], resets: 0 };
  const visitor: MetricVisitor = {
    scalar(phase: PhaseId, name: number, _run: number, step: number | bigint, ts: number, value: number) {
      const text = names.name(name);
      const tag = phase === PHASE_EVAL ? `eval/${text}` : phase === PHASE_SYSTEM ? `system/${text}` : text;
      let list = out.points.get(tag);
      if (list === undefined) out.points.set(tag, (list = []));
      list.push({ step, ts, value });
    },
    malformed() {
      throw new Error('run readers report through their sink');
    },
  };
  const sink: RunSink = {
    visitor,
    names,
    run: -1,
    problem: (problem) => out.problems.push(problem),
    reset: () => {
      out.resets++;
      out.points.clear();
    },
  };
  out.reader =
    kind === 'tfevents'
      ? new TfeventsRunReader({ path: runPath, name: runPath, sink, chunkBytes })
      : new WandbRunReader({ path: runPath, name: runPath, sink });
  return out;
}

/** Reads the run once, to its end, as summarize does. */
export async function collectRun(kind: 'tfevents' | 'wandb', runPath: string): Promise<CollectedRun> {
  const run = collector(kind, runPath);
  await run.reader.poll();
  run.reader.finish();
  return run;
}
