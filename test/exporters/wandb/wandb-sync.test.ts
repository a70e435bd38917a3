/**
 * The real `wandb sync` (wandb 0.30.0) uploads our offline runs to a stand-in server on 127.0.0.1,
 * and what arrives is compared with what was logged: W&B's own vectors as the control, a finished
 * demo run, and a demo run killed with SIGKILL. See test/helpers/wandb-sync.ts for the client.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { readLines } from '../../helpers/ndjson-lines.js';
import { parseLenientJson } from '../../helpers/lenient-json.js';
import { startStandinServer, type StandinServer } from '../../helpers/wandb-standin-server.js';
import { requireWandbInCi, wandbSync } from '../../helpers/wandb-sync.js';

const missing = requireWandbInCi('wandb-sync.test.ts');
const FIXTURES = fileURLToPath(new URL('../../fixtures/wandb/', import.meta.url));
const CLI = fileURLToPath(new URL('../../../dist/src/cli/codex-telemetry.js', import.meta.url));

interface VectorRecord {
  type: string;
  record: Record<string, { update?: Item[]; item?: Item[]; exit_code?: number } | undefined>;
}
interface Item {
  key?: string;
  nested_key?: string[];
  value_json?: string;
}

/** Sets `value` at the item's (possibly nested) key, as W&B's summary and history do. */
function put(target: Record<string, unknown>, item: Item): void {
  const keys = item.nested_key ?? [item.key ?? ''];
  let at = target;
  for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
  at[keys.at(-1) as string] = parseLenientJson(item.value_json ?? 'null');
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-wandb-sync-'));
let server: StandinServer;
beforeAll(async () => {
  server = await startStandinServer();
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** The demo's NDJSON as W&B history rows: train values and `eval/<name>` merged per step. */
function expectedHistory(out: string): Map<number, Record<string, number>> {
  const rows = new Map<number, Record<string, number>>();
  const lines = [
    ...readLines(path.join(out, '.codex', 'metrics.ndjson')),
    ...readLines(path.join(out, '.codex', 'eval_metrics.ndjson')),
  ];
  for (const line of lines) {
    const phase = line.tags.phase;
    if (phase !== 'train' && phase !== 'eval') continue;
    const step = Number(line.step);
    const row = rows.get(step) ?? { _step: step };
    row[phase === 'eval' ? `eval/${line.name}` : line.name] = line.value as number;
    rows.set(step, row);
  }
  return rows;
}

function onlyRunDir(out: string): string {
  const runs = fs.readdirSync(path.join(out, 'wandb')).filter((name) => name.startsWith('offline-run-'));
  expect(runs).toHaveLength(1);
  return path.join(out, 'wandb', runs[0] as string);
}

describe.skipIf(missing !== undefined)(
  `real wandb sync to a stand-in server${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it("uploads W&B's own vectors whole: every history row, the summary, config, files and exit code", async () => {
      const vectors = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'vectors.json'), 'utf8')) as {
        vectors: Record<string, { records: VectorRecord[] }>;
      };
      const dirs: string[] = [];
      for (const name of Object.keys(vectors.vectors)) {
        const dir = path.join(root, 'control', name);
        fs.cpSync(path.join(FIXTURES, 'wandb', name), dir, { recursive: true });
        // The vectors leave out the run's empty folders; wandb-core writes into files/.
        for (const sub of ['files', 'logs', 'tmp/code'])
          fs.mkdirSync(path.join(dir, sub), { recursive: true });
        dirs.push(dir);
      }
      const result = await wandbSync(dirs, server.url, { entity: 'codex', project: 'control' });
      expect(result.code, result.output).toBe(0);
      expect(result.output).not.toMatch(/wandb: ERROR/);
      expect(server.unexpected).toEqual([]);
      for (const [name, vector] of Object.entries(vectors.vectors)) {
        const runId = name.slice(-8);
        const synced = server.runs.get(runId);
        expect(synced, runId).toBeDefined();
        // vectors.json elides the bodies of its 70 KB records (a string note instead of the body).
        const history: Array<Record<string, unknown> | 'elided'> = [];
        const summary: Record<string, unknown> = {};
        const config: Record<string, unknown> = {};
        let exitCode = 1;
        // wandb-core always uploads these two; wandb-metadata.json only from an environment record.
        const files = new Set(['wandb-summary.json', 'config.yaml']);
        for (const { type, record } of vector.records) {
          if (type === 'history' && typeof (record.history as unknown) === 'string') history.push('elided');
          else if (type === 'history') {
            const row = {};
            for (const item of record.history?.item ?? []) put(row, item);
            history.push(row);
          } else if (type === 'summary') for (const item of record.summary?.update ?? []) put(summary, item);
          else if (type === 'config') for (const item of record.config?.update ?? []) put(config, item);
          else if (type === 'run') {
            const run = record.run as { config?: { update?: Item[] } };
            for (const item of run.config?.update ?? []) put(config, item);
          } else if (type === 'exit') exitCode = record.exit?.exit_code ?? 0;
          else if (type === 'environment') files.add('wandb-metadata.json');
          else if (type === 'files') {
            const list = record.files as { files?: Array<{ path: string }> };
            for (const file of list.files ?? []) files.add(file.path);
          } else if (type === 'output_raw') files.add('output.log');
        }
        expect(synced?.history.length, runId).toBe(history.length);
        history.forEach((row, i) => {
          const got = synced?.history[i] as Record<string, unknown>;
          if (row === 'elided') expect(got._step, `${runId} row ${i}`).toBe(i);
          else expect(got, `${runId} row ${i}`).toEqual(row);
        });
        expect(synced?.summary ?? {}, runId).toEqual(summary);
        expect(synced?.exitCode, runId).toBe(exitCode);
        expect(synced?.complete, runId).toBe(true);
        for (const [key, value] of Object.entries(config)) {
          if (key !== '_wandb')
            expect((synced?.config?.[key] as { value: unknown }).value, key).toEqual(value);
        }
        expect([...(synced?.files.keys() ?? [])].sort(), runId).toEqual([...files].sort());
      }
      console.info(`wandb-core WARN/ERROR, W&B vectors: ${JSON.stringify(result.coreProblems)}`);
    }, 120_000);

    it('uploads a finished demo run: every history row exact, the summary of its last row, config, files, exit code 0', async () => {
      const out = path.join(root, 'finished');
      const demo = spawn(
        process.execPath,
        [
          CLI,
          'demo',
          '--out',
          out,
          '--steps',
          '300',
          '--step-delay-ms',
          '0',
          '--no-prometheus',
          '--no-tensorboard',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const code = await new Promise((resolve) => demo.once('exit', resolve));
      expect(code).toBe(0);
      const runDir = onlyRunDir(out);
      const runId = runDir.slice(-8);
      const result = await wandbSync([runDir], server.url, { entity: 'codex', project: 'demo' });
      expect(result.code, result.output).toBe(0);
      expect(result.output).not.toMatch(/wandb: ERROR/);
      const synced = server.runs.get(runId);
      const expected = expectedHistory(out);
      expect(expected.size).toBe(300);
      expect(synced?.history).toHaveLength(300);
      const trainTs = new Map(
        readLines(path.join(out, '.codex', 'metrics.ndjson'))
          .filter((line) => line.tags.phase === 'train')
          .map((line) => [Number(line.step), line.ts]),
      );
      for (const row of synced?.history ?? []) {
        const step = row._step as number;
        expect(row, `step ${step}`).toMatchObject(expected.get(step) as Record<string, number>);
        expect(row._timestamp).toBeGreaterThanOrEqual(Math.round((trainTs.get(step) as number) * 1e6) / 1e6);
      }
      const last = synced?.history.at(-1) as Record<string, unknown>;
      const summary = synced?.summary as Record<string, unknown>;
      for (const [key, value] of Object.entries(last)) expect(summary[key], key).toEqual(value);
      expect(summary._wandb).toEqual({ runtime: expect.any(Number) as number });
      expect(synced?.exitCode).toBe(0);
      expect(synced?.complete).toBe(true);
      const config = YAML.parse(fs.readFileSync(path.join(runDir, 'files', 'config.yaml'), 'utf8')) as Record<
        string,
        { value: unknown }
      >;
      for (const [key, { value }] of Object.entries(config)) {
        if (key !== '_wandb') expect((synced?.config?.[key] as { value: unknown }).value, key).toEqual(value);
      }
      expect([...(synced?.files.keys() ?? [])].sort()).toEqual(
        ['config.yaml', 'wandb-metadata.json', 'wandb-summary.json'].sort(),
      );
      const metadata = JSON.parse(synced?.files.get('wandb-metadata.json') ?? '{}') as Record<
        string,
        unknown
      >;
      expect(metadata).toMatchObject({
        cpu_count: expect.any(Number) as number,
        cpu_count_logical: expect.any(Number) as number,
        disk: { '/': { total: expect.any(String) as string } },
        program: CLI,
      });
      expect(result.coreProblems).toEqual([]);
      console.info(`wandb-core WARN/ERROR, finished demo: ${JSON.stringify(result.coreProblems)}`);
    }, 120_000);
  },
);
