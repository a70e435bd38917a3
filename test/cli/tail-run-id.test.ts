import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli/parse-cli.js';
import { runTail } from '../../src/cli/tail-command.js';
import { captureIo } from '../helpers/capture-io.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function line(runId: string, step: number): string {
  return `${JSON.stringify({ v: 1, run_id: runId, ts: 1700000000 + step, step, name: 'loss', value: 1 / (step + 1), tags: { phase: 'train' } })}\n`;
}

async function replay(dir: string, files: string[], env: NodeJS.ProcessEnv = {}, flags: string[] = []) {
  const parsed = parseCli([
    'tail',
    '--from-start',
    '--no-prometheus',
    '--out',
    path.join(dir, 'replay'),
    ...flags,
    ...files,
  ]);
  if (parsed.command !== 'tail') throw new Error(`not a tail command: ${JSON.stringify(parsed)}`);
  const captured = captureIo({ ...env, CODEX_SYSTEM_METRICS_INTERVAL: '0' });
  const code = await runTail(parsed.options, parsed.files, captured.io);
  return { code, ...captured };
}

describe('tail --from-start and run ids', () => {
  it("replays a finished stream under the stream's run id, not a new one, so its TensorBoard and W&B runs match", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-tail-runid-'));
    dirs.push(dir);
    const stream = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(stream, line('09f4m6p5', 0) + line('09f4m6p5', 1));
    const result = await replay(dir, [stream]);
    expect(result.code, result.stderr()).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'replay', 'runs'))).toEqual(['run-09f4m6p5']);
    expect(
      fs.readdirSync(path.join(dir, 'replay', 'wandb')).filter((n) => n.startsWith('offline-run-')),
    ).toEqual([expect.stringMatching(/-09f4m6p5$/)]);
  });

  it("uses --run-id or CODEX_RUN_ID over the stream's, and says why streams of several runs get a new id", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-tail-runid-'));
    dirs.push(dir);
    const a = path.join(dir, 'a.ndjson');
    const b = path.join(dir, 'b.ndjson');
    fs.writeFileSync(a, line('runaaaa1', 0));
    fs.writeFileSync(b, line('runbbbb2', 0));
    const named = await replay(dir, [a], { CODEX_RUN_ID: 'chosen01' });
    expect(named.code, named.stderr()).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'replay', 'runs'))).toEqual(['run-chosen01']);
    fs.rmSync(path.join(dir, 'replay'), { recursive: true });
    const both = await replay(dir, [a, b]);
    expect(both.code, both.stderr()).toBe(0);
    expect(both.stderr()).toMatch(
      /written by runs runaaaa1, runbbbb2; they are replayed as one new run \(--run-id ID names it\)/,
    );
    expect(fs.readdirSync(path.join(dir, 'replay', 'runs'))).not.toContain('run-runaaaa1');
  });
});
