/** Test-side parsing of schema v1 lines that keeps int64 steps and non-finite values exact. */
import fs from 'node:fs';

export interface ParsedLine {
  v: number;
  ts: number;
  run_id: string;
  step: number | bigint;
  name: string;
  value?: number;
  values?: Record<string, number>;
  tags: Record<string, string | number>;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

export function parseLine(line: string): ParsedLine {
  const parsed = JSON.parse(line) as ParsedLine & { value?: number | string };
  const digits = /"step":(-?\d+)/.exec(line)?.[1];
  if (digits !== undefined) {
    const big = BigInt(digits);
    parsed.step =
      big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  if (typeof parsed.value === 'string') parsed.value = NON_FINITE[parsed.value];
  if (/"value":-0[,}]/.test(line)) parsed.value = -0;
  return parsed as ParsedLine;
}

export function readLines(path: string): ParsedLine[] {
  const text = fs.readFileSync(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map(parseLine);
}
