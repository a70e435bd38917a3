/** NDJSON streams for index tests: train, eval and system rows, non-finite values among them. */
import fs from 'node:fs';

const SPECIAL = ['"NaN"', '"Infinity"', '"-Infinity"'];

/** Lines for steps [from, to): loss every step, eval/acc every 10th, a system snapshot every 7th. */
export function streamLines(from: number, to: number, run = 'run-a', salt = 0): string {
  let out = '';
  for (let step = from; step < to; step++) {
    const ts = 1_700_000_000 + step * 0.5;
    const loss =
      step % 97 === 13 ? (SPECIAL[(step + salt) % 3] as string) : String(Math.sin(step + salt) * 3);
    out += `{"v":1,"ts":${ts},"run_id":"${run}","step":${step},"name":"loss","value":${loss},"tags":{"phase":"train"}}\n`;
    if (step % 10 === 0)
      out += `{"v":1,"ts":${ts},"run_id":"${run}","step":${step},"name":"acc","value":${(step % 31) / 31},"tags":{"phase":"eval"}}\n`;
    if (step % 7 === 0)
      out += `{"v":1,"ts":${ts},"run_id":"${run}","step":${step},"name":"system","values":{"cpu_percent":${step % 100},"ram_used_bytes":${step * 1024}},"tags":{"phase":"system"}}\n`;
  }
  return out;
}

export function writeStream(file: string, from: number, to: number, run?: string, salt?: number): void {
  fs.writeFileSync(file, streamLines(from, to, run, salt));
}

export function appendStream(file: string, from: number, to: number, run?: string, salt?: number): void {
  fs.appendFileSync(file, streamLines(from, to, run, salt));
}
