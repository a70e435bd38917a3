/**
 * The worker-thread path runs the compiled reader (dist/, built by `npm test`): TypeScript sources
 * cannot be loaded into a worker on Node 20.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type * as ReadFiles from '../../../src/summarize/read-files.js';

const BUILT = fileURLToPath(new URL('../../../dist/src/summarize/read-files.js', import.meta.url));
const built = fs.existsSync(BUILT);
if (!built && process.env.CI !== undefined)
  throw new Error(`${BUILT} is missing: run \`npm run build\` before the tests (npm test does)`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'summarize-split-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!built)('summarize across worker threads', () => {
  it('splits a file into line-aligned ranges read by workers and merges them into the single-thread result', async () => {
    const { readFiles } = (await import(pathToFileURL(BUILT).href)) as typeof ReadFiles;
    const file = path.join(dir, 'm.ndjson');
    const lines: string[] = [];
    for (let step = 0; step < 3000; step++) {
      lines.push(
        `{"v":1,"ts":${1700000000 + step},"run_id":"r","step":${step},"name":"loss","value":${(step * 7) % 101},"tags":{"phase":"train"}}`,
      );
      if (step % 10 === 0) lines.push(`{"step":${step},"acc":${step % 3},"phase":"eval"}`);
      if (step === 2500) lines.push('{"broken": ');
    }
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const plans: { tasks: number; workers: number }[] = [];
    const split = await readFiles([file], { jobs: 3, parallelMinBytes: 1, onPlan: (p) => plans.push(p) });
    const single = await readFiles([file], { jobs: 1, onPlan: (p) => plans.push(p) });
    expect(plans).toEqual([
      { tasks: 3, workers: 3 },
      { tasks: 1, workers: 0 },
    ]);
    expect(split.metrics).toEqual(single.metrics);
    expect(split.lines).toBe(single.lines);
    expect(split.malformedReports).toEqual(single.malformedReports);
    expect(single.malformedReports.map((r) => r.line)).toEqual([lines.indexOf('{"broken": ') + 1]);
    expect(split.steps).toEqual(single.steps);
  });
});
