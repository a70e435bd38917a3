/**
 * Two demos into one --out, at the same time and one after the other: both run, every line of both
 * is kept and parseable, each has its own TensorBoard run, W&B run and checkpoint manifests, and the
 * second run's warning names the first. See src/exporters/file/file-claim.ts for the mechanism.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLine } from '../helpers/ndjson-lines.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/codex-telemetry.js', import.meta.url));
const NDJSON_CLI = fileURLToPath(new URL('../../dist/src/cli/codex-ndjson.js', import.meta.url));
const STEPS = 150;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-two-demos-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function demo(out: string, runId: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'demo',
      '--out',
      out,
      '--run-id',
      runId,
      '--steps',
      String(STEPS),
      '--step-delay-ms',
      '3',
      '--no-prometheus',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

/** Every line of every NDJSON file under `.codex`, by run id; throws on a line that does not parse. */
function linesByRun(out: string): Map<string, Array<{ step: number; name: string; phase: string }>> {
  const runs = new Map<string, Array<{ step: number; name: string; phase: string }>>();
  const dir = path.join(out, '.codex');
  for (const file of fs.readdirSync(dir).filter((name) => name.endsWith('.ndjson'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    expect(text.endsWith('\n'), `${file} ends with a whole line`).toBe(true);
    for (const line of text.split('\n').slice(0, -1)) {
      const parsed = parseLine(line);
      const list = runs.get(parsed.run_id) ?? [];
      list.push({ step: Number(parsed.step), name: parsed.name, phase: String(parsed.tags.phase) });
      runs.set(parsed.run_id, list);
    }
  }
  return runs;
}

function expectWhole(
  lines: Array<{ step: number; name: string; phase: string }> | undefined,
  runId: string,
): void {
  const train = (lines ?? []).filter((line) => line.phase === 'train');
  // Five train scalars a step, every step once.
  expect(train.length, runId).toBe(STEPS * 5);
  expect(new Set(train.map((line) => line.step)).size, runId).toBe(STEPS);
}

describe('two demos into one --out', () => {
  it('started together: both keep every line, with their own TensorBoard run, W&B run and manifests; the warning names the other run', async () => {
    const out = path.join(root, 'together');
    const [a, b] = await Promise.all([demo(out, 'runaaaa1'), demo(out, 'runbbbb2')]);
    expect(a?.code, a?.output).toBe(0);
    expect(b?.code, b?.output).toBe(0);
    const runs = linesByRun(out);
    expect([...runs.keys()].sort()).toEqual(['runaaaa1', 'runbbbb2']);
    expectWhole(runs.get('runaaaa1'), 'runaaaa1');
    expectWhole(runs.get('runbbbb2'), 'runbbbb2');
    // Whichever claimed the train stream second wrote beside the first and said whose file it left
    // alone, once; its eval stream, opened at the first evaluation, follows its train stream beside
    // (it used to race for the eval file too, and each run could win one race, splitting both runs).
    expect(a?.output).not.toMatch(/is being written by run runaaaa1/);
    expect(b?.output).not.toMatch(/is being written by run runbbbb2/);
    const warned = [a, b].filter((run) => /is being written by run run(aaaa1|bbbb2)/.test(run?.output ?? ''));
    expect(warned.length).toBe(1);
    expect(warned[0]?.output.match(/is being written by run/g)?.length).toBe(1);
    const [beside, first] = warned[0] === a ? ['runaaaa1', 'runbbbb2'] : ['runbbbb2', 'runaaaa1'];
    const streams = fs
      .readdirSync(path.join(out, '.codex'))
      .filter((name) => name.endsWith('.ndjson'))
      .sort();
    expect(streams).toEqual(
      [
        'eval_metrics.ndjson',
        `eval_metrics.${beside}.ndjson`,
        'metrics.ndjson',
        `metrics.${beside}.ndjson`,
      ].sort(),
    );
    for (const name of streams) {
      const owner = name.includes(beside) ? beside : first;
      const ids = new Set(
        fs
          .readFileSync(path.join(out, '.codex', name), 'utf8')
          .trimEnd()
          .split('\n')
          .map((line) => parseLine(line).run_id),
      );
      expect({ name, ids: [...ids] }).toEqual({ name, ids: [owner] });
    }
    expect(fs.readdirSync(path.join(out, 'runs')).sort()).toEqual(['run-runaaaa1', 'run-runbbbb2']);
    const wandbRuns = fs
      .readdirSync(path.join(out, 'wandb'))
      .filter((name) => name.startsWith('offline-run-'));
    expect(wandbRuns.map((name) => name.slice(-8)).sort()).toEqual(['runaaaa1', 'runbbbb2']);
    for (const runId of ['runaaaa1', 'runbbbb2']) {
      const manifests = fs
        .readdirSync(path.join(out, 'checkpoints', runId))
        .filter((name) => name.endsWith('.json'));
      expect(manifests.length, runId).toBeGreaterThan(0);
    }
    // No claim is left once both closed.
    expect(fs.readdirSync(path.join(out, '.codex')).filter((name) => name.endsWith('.owner'))).toEqual([]);
  }, 120_000);

  it('one after the other: the second appends to the same file and both runs stay whole; summarize reads both', async () => {
    const out = path.join(root, 'sequential');
    const first = await demo(out, 'runcccc3');
    expect(first.code, first.output).toBe(0);
    const second = await demo(out, 'rundddd4');
    expect(second.code, second.output).toBe(0);
    expect(second.output).not.toMatch(/is being written by run/);
    const runs = linesByRun(out);
    expectWhole(runs.get('runcccc3'), 'runcccc3');
    expectWhole(runs.get('rundddd4'), 'rundddd4');
    expect(fs.readdirSync(path.join(out, 'runs')).sort()).toEqual(['run-runcccc3', 'run-rundddd4']);
    const summary = await new Promise<string>((resolve) => {
      const child = spawn(
        process.execPath,
        [NDJSON_CLI, 'summarize', path.join(out, '.codex'), '--format', 'json'],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.once('close', () => resolve(text));
    });
    expect(summary).toContain('runcccc3');
    expect(summary).toContain('rundddd4');
  }, 120_000);
});
