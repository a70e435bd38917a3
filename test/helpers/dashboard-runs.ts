/** NDJSON runs written for the dashboard tests: plain schema v1 lines, no library code involved. */
import fs from 'node:fs';
import path from 'node:path';

export const T0 = 1_764_000_000;

export function scalarLine(
  step: number,
  name: string,
  value: number,
  phase = 'train',
  ts = T0 + step,
): string {
  const spelled = Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  return `{"v":1,"ts":${ts},"run_id":"r1","step":${step},"name":${JSON.stringify(name)},"value":${spelled},"tags":{"phase":"${phase}"}}\n`;
}

/** A run folder with `.codex/metrics.ndjson` (loss, lr) and `.codex/eval_metrics.ndjson` (loss). */
export function writeRun(dir: string, steps: number, scale = 1, extra = ''): string {
  fs.mkdirSync(path.join(dir, '.codex'), { recursive: true });
  let train = '';
  let evaluation = '';
  for (let step = 0; step < steps; step++) {
    train += scalarLine(step, 'loss', scale * (2 / (1 + step / 20)) + 0.05 * Math.sin(step));
    train += scalarLine(step, 'lr', 1e-3 * Math.min(1, step / 50));
    if (step % 20 === 0) evaluation += scalarLine(step, 'loss', scale * (2.2 / (1 + step / 20)), 'eval');
  }
  fs.writeFileSync(path.join(dir, '.codex', 'metrics.ndjson'), train + extra);
  fs.writeFileSync(path.join(dir, '.codex', 'eval_metrics.ndjson'), evaluation);
  return dir;
}

/** Ranks 0..n-1 of one run: `metrics.ndjson`, `metrics.rank1.ndjson`, ... with spread values. */
export function writeRanks(dir: string, ranks: number, steps: number): string {
  fs.mkdirSync(path.join(dir, '.codex'), { recursive: true });
  for (let rank = 0; rank < ranks; rank++) {
    let text = '';
    for (let step = 0; step < steps; step++) {
      text += scalarLine(step, 'loss', 2 / (1 + step / 30) + 0.1 * rank + 0.05 * Math.sin(step + rank));
    }
    fs.writeFileSync(
      path.join(dir, '.codex', rank === 0 ? 'metrics.ndjson' : `metrics.rank${rank}.ndjson`),
      text,
    );
  }
  return dir;
}

/** One system snapshot line: sample number `sample` taken at `ts`, with flat keys `values`. */
export function systemLine(sample: number, ts: number, values: Record<string, number>): string {
  return `{"v":1,"ts":${ts},"run_id":"r1","step":${sample},"name":"system","values":${JSON.stringify(values)},"tags":{"phase":"system"}}\n`;
}
