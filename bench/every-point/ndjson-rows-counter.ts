/**
 * Counts a never-yield run's NDJSON rows exactly: every line is decoded, and each (step, name) of
 * the train phase is ticked in a bitmap of steps × names, so a missing, duplicated or torn row shows
 * as a count, not as a total that happens to match.
 */
import fs from 'node:fs';

export interface NdjsonRowsCheck {
  lines: number;
  /** Train rows whose step is in 0..steps-1 and whose name is one of the names, first time seen. */
  rows: number;
  /** Steps with every name present. */
  completeSteps: number;
  duplicates: number;
  /** Lines that did not decode, or held a step or name outside the run's. */
  unexpected: number;
  firstProblem: string | undefined;
}

export async function countNdjsonRows(
  file: string,
  steps: number,
  names: readonly string[],
): Promise<NdjsonRowsCheck> {
  const bitOf = new Map(names.map((name, i) => [name, 1 << i]));
  const full = (1 << names.length) - 1;
  const seen = new Uint8Array(steps);
  const check: NdjsonRowsCheck = {
    lines: 0,
    rows: 0,
    completeSteps: 0,
    duplicates: 0,
    unexpected: 0,
    firstProblem: undefined,
  };
  const problem = (message: string): void => {
    check.unexpected++;
    check.firstProblem ??= message;
  };
  const line = (text: string): void => {
    check.lines++;
    let row: { step?: unknown; name?: unknown; tags?: { phase?: unknown } };
    try {
      row = JSON.parse(text) as typeof row;
    } catch {
      problem(`line ${check.lines}: not JSON: ${text.slice(0, 80)}`);
      return;
    }
    const bit = typeof row.name === 'string' ? bitOf.get(row.name) : undefined;
    const step = row.step;
    if (
      bit === undefined ||
      typeof step !== 'number' ||
      !Number.isInteger(step) ||
      step < 0 ||
      step >= steps ||
      row.tags?.phase !== 'train'
    ) {
      problem(`line ${check.lines}: not a train row of this run: ${text.slice(0, 120)}`);
      return;
    }
    if (((seen[step] as number) & bit) !== 0) {
      check.duplicates++;
      return;
    }
    seen[step] = (seen[step] as number) | bit;
    check.rows++;
  };
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of fs.createReadStream(file, {
    highWaterMark: 4 * 2 ** 20,
  }) as AsyncIterable<Buffer>) {
    const data = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    let start = 0;
    for (let end = data.indexOf(0x0a, start); end !== -1; end = data.indexOf(0x0a, start)) {
      line(data.toString('utf8', start, end));
      start = end + 1;
    }
    rest = data.subarray(start);
  }
  if (rest.length > 0) problem(`the file ends in a line without a newline (${rest.length} bytes): torn`);
  for (let step = 0; step < steps; step++) if (seen[step] === full) check.completeSteps++;
  return check;
}
