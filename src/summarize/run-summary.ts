/**
 * Everything `codex-ndjson summarize` knows about a set of streams, accumulated line by line in
 * bounded memory: per (phase, metric) statistics, run ids, time span, steps, and malformed lines
 * (counted, with the first few kept as file:line and reason).
 */
import type { Phase, Step } from '../instruments/step-row.js';
import { MetricStats } from './metric-stats.js';

export const MALFORMED_EXAMPLES = 10;

export interface MalformedLine {
  file: string;
  line: number;
  reason: string;
}

export class RunSummary {
  readonly files: string[] = [];
  lines = 0;
  bytes = 0;
  malformed = 0;
  readonly malformedExamples: MalformedLine[] = [];
  readonly runIds = new Set<string>();
  tsMin = Infinity;
  tsMax = -Infinity;
  stepMin: Step | undefined;
  stepMax: Step | undefined;
  /** Key: `${phase}\u0000${name}`, in first-seen order. */
  readonly metrics = new Map<string, MetricStats>();

  stats(phase: Phase, name: string): MetricStats {
    const key = `${phase}\u0000${name}`;
    let stats = this.metrics.get(key);
    if (stats === undefined) {
      stats = new MetricStats();
      this.metrics.set(key, stats);
    }
    return stats;
  }

  noteStep(step: Step): void {
    if (this.stepMin === undefined || step < this.stepMin) this.stepMin = step;
    if (this.stepMax === undefined || step > this.stepMax) this.stepMax = step;
  }

  noteTs(ts: number): void {
    if (ts < this.tsMin) this.tsMin = ts;
    if (ts > this.tsMax) this.tsMax = ts;
  }

  addMalformed(file: string, line: number, reason: string): void {
    this.malformed++;
    if (this.malformedExamples.length < MALFORMED_EXAMPLES)
      this.malformedExamples.push({ file, line, reason });
  }

  /** Appends a summary of input that came after this one's (parallel ranges, then files). */
  merge(later: RunSummary, lineOffset = 0): void {
    for (const file of later.files) if (!this.files.includes(file)) this.files.push(file);
    this.lines += later.lines;
    this.bytes += later.bytes;
    this.malformed += later.malformed;
    for (const example of later.malformedExamples) {
      if (this.malformedExamples.length < MALFORMED_EXAMPLES)
        this.malformedExamples.push({ ...example, line: example.line + lineOffset });
    }
    for (const id of later.runIds) this.runIds.add(id);
    this.tsMin = Math.min(this.tsMin, later.tsMin);
    this.tsMax = Math.max(this.tsMax, later.tsMax);
    if (later.stepMin !== undefined) this.noteStep(later.stepMin);
    if (later.stepMax !== undefined) this.noteStep(later.stepMax);
    for (const [key, stats] of later.metrics) {
      const mine = this.metrics.get(key);
      if (mine) mine.merge(stats);
      else this.metrics.set(key, stats);
    }
  }

  /** Splits a metrics key back into phase and name. */
  static parseKey(key: string): { phase: Phase; name: string } {
    const at = key.indexOf('\u0000');
    return { phase: key.slice(0, at) as Phase, name: key.slice(at + 1) };
  }
}
