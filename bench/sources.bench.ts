/**
 * Reading other tools' runs directly, end to end (process start to the answer), beside the tool
 * that reads them today, on the same files in the same run:
 *
 * - a 1,000,000-scalar TensorBoard event file (one simple_value per Event, as tensorboardX and
 *   PyTorch write; 200k quick): `codex-ndjson summarize FILE` until it exits, beside `tensorboard
 *   --load_fast=true` (its Rust data server) from launch until every point of every tag is served
 *   (goal: at least as fast). TensorBoard comes from CODEX_TENSORBOARD_PYTHON's venv; without its
 *   data server the row says "not measured";
 * - a 100,000-row W&B offline run (5 scalars a row, written by our W&B exporter; 20k quick):
 *   `codex-ndjson summarize RUN_DIR` beside the real `wandb sync` uploading it to the stand-in
 *   server of the tests (goal: at least 5x faster). wandb comes from CODEX_WANDB_BIN;
 * - the dashboard's first read of the same event file and of the same W&B run, in-process
 *   (informational), and its second open, from the run index the first one wrote, beside the first
 *   (goal: at least 10x faster; no second open for a run under the index's 16 MiB bound).
 *
 * Each side runs twice, interleaved, and the faster run counts: this machine is shared.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { INDEX_MIN_BYTES } from '../src/dashboard/index-backlog.js';
import { LiveRuns } from '../src/dashboard/live-runs.js';
import { WandbExporter } from '../src/exporters/wandb/wandb-exporter.js';
import { encodeScalarsRecord } from '../src/formats/tensorboard/scalars-record.js';
import { SinkHealth } from '../src/health.js';
import { EVENT_FILE } from '../src/sources/run-files.js';
import type { Row } from '../src/pipeline/row.js';
import { startStandinServer } from '../test/helpers/wandb-standin-server.js';
import { wandbMissing, wandbSync } from '../test/helpers/wandb-sync.js';
import { seconds } from './exporter-helpers.js';
import type { Bench, BenchResult } from './types.js';

const CLI = fileURLToPath(new URL('../src/cli/codex-ndjson.js', import.meta.url));
const NAMES = ['loss', 'lr', 'grad_norm', 'throughput', 'tokens_per_s'];
const START = 1.7e9;
const valuesAt = (step: number): number[] => [1 / (step + 1), 3e-4, 0.5, 1200 + step, 2.4e5];

/** One Event per scalar, NAMES in turn, as tensorboardX's add_scalar writes them. */
function writeEventFile(dir: string, scalars: number): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'events.out.tfevents.1700000000.bench');
  const fd = fs.openSync(file, 'w');
  let parts: Buffer[] = [];
  let size = 0;
  for (let i = 0; i < scalars; i++) {
    const step = Math.floor(i / NAMES.length);
    const k = i % NAMES.length;
    const record = encodeScalarsRecord(
      START + step / 100,
      step,
      [NAMES[k] as string],
      [valuesAt(step)[k] as number],
    );
    parts.push(record);
    size += record.length;
    if (size >= 4 << 20) {
      fs.writeSync(fd, Buffer.concat(parts));
      parts = [];
      size = 0;
    }
  }
  fs.writeSync(fd, Buffer.concat(parts));
  fs.closeSync(fd);
  return file;
}

async function writeWandbRun(dir: string, rows: number): Promise<string> {
  const exporter = new WandbExporter({
    dir,
    runId: 'bench001',
    startTime: START,
    health: new SinkHealth(() => undefined),
  });
  for (let first = 0; first < rows; first += 4096) {
    const batch: Row[] = [];
    for (let step = first; step < Math.min(rows, first + 4096); step++) {
      batch.push({
        stream: 'train',
        phase: 'train',
        step,
        ts: START + step / 100,
        names: NAMES,
        values: valuesAt(step),
      });
    }
    exporter.write(batch);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await exporter.close({ exitCode: 0 });
  return exporter.runDir;
}

/** Seconds `codex-ndjson summarize INPUT` takes from spawn to exit (it must succeed). */
async function summarizeSeconds(input: string): Promise<number> {
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, [CLI, 'summarize', input, '--no-progress', '-f', 'json'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`summarize ${input} exited ${code}: ${stderr}`);
  return seconds(start);
}

/** Seconds from launching TensorBoard's data server until it serves every point of every tag, or undefined. */
async function tensorboardSeconds(logdir: string, perTag: number): Promise<number | undefined> {
  const python = process.env.CODEX_TENSORBOARD_PYTHON ?? 'python3';
  const probe = spawnSync(python, [
    '-c',
    'import tensorboard_data_server as s, sys; sys.exit(0 if s.server_binary() else 3)',
  ]);
  if (probe.status !== 0) {
    process.stderr.write(`bench: tensorboard --load_fast=true not available with ${python}\n`);
    return undefined;
  }
  const start = process.hrtime.bigint();
  const child = spawn(
    path.join(path.dirname(python), 'tensorboard'),
    [
      '--logdir',
      logdir,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--load_fast=true',
      '--reload_interval',
      '1',
      '--samples_per_plugin',
      `scalars=${perTag * 2}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const look = (chunk: Buffer): void => {
        output += chunk.toString();
        const found = /http:\/\/127\.0\.0\.1:\d+/.exec(output);
        if (found !== null) resolve(found[0]);
      };
      child.stdout.on('data', look);
      child.stderr.on('data', look);
      child.once('exit', (code) => reject(new Error(`tensorboard exited (${code}): ${output}`)));
    });
    const served = async (tag: string): Promise<number> => {
      const response = await fetch(`${url}/data/plugin/scalars/scalars?run=.&tag=${encodeURIComponent(tag)}`);
      return response.ok ? ((await response.json()) as unknown[]).length : 0;
    };
    // The last tag written is complete last; then every tag is fetched in full once.
    while ((await served(NAMES[NAMES.length - 1] as string)) < perTag)
      await new Promise((r) => setTimeout(r, 100));
    for (const tag of NAMES)
      if ((await served(tag)) !== perTag) throw new Error(`tensorboard served a partial ${tag}`);
    return seconds(start);
  } finally {
    child.kill('SIGTERM');
  }
}

async function dashboardSeconds(logdir: string): Promise<number> {
  const start = process.hrtime.bigint();
  const live = new LiveRuns({ inputs: [logdir], pollMs: 60_000 });
  await live.tick();
  const took = seconds(start);
  live.stop();
  return took;
}

/**
 * The dashboard's first open of the run in `dir` (no index: a full read that writes one), then its
 * second (from the index); no second for a run under the index's size bound (a quick run).
 */
async function dashboardOpens(dir: string, bytes: number): Promise<{ first: number; second?: number }> {
  for (const name of fs.readdirSync(dir)) if (name.endsWith('.idx')) fs.rmSync(path.join(dir, name));
  const first = await dashboardSeconds(dir);
  if (bytes < INDEX_MIN_BYTES) return { first };
  if (!fs.readdirSync(dir).some((name) => name.endsWith('.idx')))
    throw new Error(`the dashboard's first open of ${dir} wrote no run index`);
  return { first, second: await dashboardSeconds(dir) };
}

/** Two rounds of dashboardOpens, the faster of each kind of open. */
async function fastestOpens(dir: string, bytes: number): Promise<{ first: number; second?: number }> {
  const opens = [await dashboardOpens(dir, bytes), await dashboardOpens(dir, bytes)];
  return { first: fastest(opens.map((o) => o.first)) as number, second: fastest(opens.map((o) => o.second)) };
}

/** The rows of a first and a second dashboard open of one run. */
function openRows(what: string, opens: { first: number; second?: number }): BenchResult[] {
  const { first, second } = opens;
  const rows: BenchResult[] = [
    {
      figure: `${what}: the dashboard's first read, in-process`,
      unit: 's',
      ours: first,
      baseline: undefined,
      baselineName: '-',
      ratio: undefined,
      goal: 'informational',
      met: undefined,
    },
    {
      figure: `${what}: the dashboard's second open, from the run index the first wrote, in-process`,
      unit: 's',
      ours: second ?? NaN,
      baseline: first,
      baselineName: 'the first open (a full read, which writes the index)',
      ratio: second === undefined ? undefined : first / second,
      goal: '>= 10x faster than the first open (ratio >= 10)',
      met: second === undefined ? undefined : first / second >= 10,
    },
  ];
  // Under the index's size bound (a quick run) no index is written: there is no second open to show.
  return second === undefined ? rows.slice(0, 1) : rows;
}

const fastest = (values: Array<number | undefined>): number | undefined => {
  const measured = values.filter((v): v is number => v !== undefined);
  return measured.length === 0 ? undefined : Math.min(...measured);
};

export const run: Bench = async ({ quick, tmpDir }) => {
  const scalars = quick ? 200_000 : 1_000_000;
  const logdir = path.join(tmpDir, 'tb');
  writeEventFile(logdir, scalars);
  const ours: number[] = [];
  const theirs: Array<number | undefined> = [];
  for (let round = 0; round < 2; round++) {
    ours.push(await summarizeSeconds(logdir));
    theirs.push(await tensorboardSeconds(logdir, scalars / NAMES.length));
  }
  const oursTb = fastest(ours) as number;
  const tb = fastest(theirs);
  const eventFile = path.join(logdir, fs.readdirSync(logdir).find((name) => EVENT_FILE.test(name)) as string);
  const tbOpens = await fastestOpens(logdir, fs.statSync(eventFile).size);

  const rows = quick ? 20_000 : 100_000;
  const runDir = await writeWandbRun(path.join(tmpDir, 'wandb'), rows);
  const missing = wandbMissing();
  if (missing !== undefined) process.stderr.write(`bench: wandb sync not run: ${missing}\n`);
  const oursWandb: number[] = [];
  const syncs: Array<number | undefined> = [];
  for (let round = 0; round < 2; round++) {
    oursWandb.push(await summarizeSeconds(runDir));
    if (missing !== undefined) continue;
    // `wandb sync` skips a run it marked synced: the marker goes, so each round uploads it all.
    for (const name of fs.readdirSync(runDir)) {
      if (name.endsWith('.wandb.synced') || name.endsWith('.wandb.syncstate'))
        fs.rmSync(path.join(runDir, name));
    }
    const server = await startStandinServer();
    try {
      const start = process.hrtime.bigint();
      const result = await wandbSync([runDir], server.url, {
        entity: 'bench',
        project: 'bench',
        timeoutMs: 600_000,
      });
      const took = seconds(start);
      const uploaded = server.runs.get('bench001')?.history.length ?? 0;
      syncs.push(result.code === 0 && uploaded === rows ? took : undefined);
      if (result.code !== 0 || uploaded !== rows) {
        process.stderr.write(
          `bench: wandb sync uploaded ${uploaded} of ${rows} rows: ${result.output.slice(-500)}\n`,
        );
      }
    } finally {
      await server.close();
    }
  }
  const ourWandb = fastest(oursWandb) as number;
  const log = path.join(runDir, fs.readdirSync(runDir).find((name) => name.endsWith('.wandb')) as string);
  const wandbOpens = await fastestOpens(runDir, fs.statSync(log).size);
  const sync = fastest(syncs);
  const mb = (file: string): string => `${(fs.statSync(file).size / 2 ** 20).toFixed(1)} MiB`;

  const results: BenchResult[] = [
    {
      figure: `TensorBoard event file, ${scalars.toLocaleString('en')} scalars (${mb(eventFile)}): summarize, process start to exit`,
      unit: 's',
      ours: oursTb,
      baseline: tb,
      baselineName: 'tensorboard --load_fast=true (Rust data server), launch to every point served',
      ratio: tb === undefined ? undefined : tb / oursTb,
      goal: '>= 1x TensorBoard (ratio >= 1)',
      met: tb === undefined ? undefined : tb / oursTb >= 1,
    },
    ...openRows('the same event file', tbOpens),
    {
      figure: `W&B offline run, ${rows.toLocaleString('en')} history rows of ${NAMES.length} scalars (${mb(log)}): summarize, process start to exit`,
      unit: 's',
      ours: ourWandb,
      baseline: sync,
      baselineName: 'wandb sync (wandb 0.30) to the stand-in server',
      ratio: sync === undefined ? undefined : sync / ourWandb,
      goal: '>= 5x faster than wandb sync (ratio >= 5)',
      met: sync === undefined ? undefined : sync / ourWandb >= 5,
    },
    ...openRows('the same W&B run', wandbOpens),
  ];
  return results;
};
