/**
 * Every point of a never-yielding run through every real reader (issue 24's "A loop that never
 * yields"): not part of `npm run bench`, because at full size it takes tens of minutes and several
 * GB. Run it on its own, under nice, with nothing else heavy on the machine:
 *
 *   npm run build
 *   CODEX_TENSORBOARD_PYTHON=/tmp/codex-tb-venv/bin/python CODEX_WANDB_BIN=/tmp/codex-wandb-venv/bin/wandb \
 *     nice -n 10 node dist/bench/every-point/run.js --out=/tmp/every-point [--steps=10000000]
 *
 * (`npm run bench:every-point -- --out=...` builds and runs the same, without nice.) OUT takes
 * about 9 GB at 10M steps (5.8 GB of NDJSON, 1.8 GB of W&B, 1 GB of TensorBoard events).
 *
 * One step after the other, never two at once (each prints MemAvailable and the load average first):
 *
 * 1. log: `node test/fixtures/children/never-yield.mjs OUT STEPS never all 5` (5 scalars a step, no
 *    `await`, NDJSON + TensorBoard + W&B on); its log() time, peak RSS and sink health.
 * 2. ndjson: every line of OUT/.codex/metrics.ndjson decoded; STEPS × 5 distinct train rows.
 * 3. tensorboard: `tensorboard --logdir OUT/runs --load_fast=true --samples_per_plugin
 *    scalars=STEPS` on 127.0.0.1; once its processes are idle (loaded), each of the 5 tags'
 *    `/data/plugin/scalars/scalars` answer is streamed and must hold STEPS points with the distinct
 *    steps 0..STEPS-1; then it is stopped by PID. Peak RSS of each of its processes.
 * 4. wandb: `wandb sync` of OUT's offline run to the stand-in server, which decodes and checks each
 *    history row as it arrives (not kept): STEPS rows, `_step` strictly increasing to STEPS-1,
 *    exit code 0.
 *
 * `--phases=ndjson,wandb,tensorboard` runs only those steps, in that order, on an OUT a previous
 * run's log step wrote. A watcher kills a step's processes if MemAvailable falls under `--floor-gib` (default 1.5),
 * and the report says so; `--deadline=2026-12-07T13:50:00Z` (or `--tensorboard-timeout-s`, default
 * 3 h) ends TensorBoard's check there, with how far it got. The report goes to stdout and OUT/every-point-report.json; the exit code
 * is 1 when a check fails.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStandinServer } from '../../test/helpers/wandb-standin-server.js';
import { wandbSync } from '../../test/helpers/wandb-sync.js';
import { countNdjsonRows } from './ndjson-rows-counter.js';
import { availableBytes, processTree, watchMemory, type MemoryReport } from './process-memory.js';
import { ScalarPointsCounter, type ScalarPointsCheck } from './scalar-points-counter.js';

const NEVER_YIELD = fileURLToPath(
  new URL('../../../test/fixtures/children/never-yield.mjs', import.meta.url),
);
const NAMES = ['loss', 'lr', 'acc', 'grad_norm', 'tokens'] as const;
const PHASES = ['log', 'ndjson', 'tensorboard', 'wandb'] as const;
type Phase = (typeof PHASES)[number];

const USAGE = `usage: node dist/bench/every-point/run.js [--out=DIR] [--steps=N] [--phases=log,ndjson,tensorboard,wandb]
                                          [--floor-gib=G] [--deadline=ISO] [--tensorboard-timeout-s=S]
Every point of a never-yielding run (default 10,000,000 steps) through NDJSON, tensorboard --load_fast
and wandb sync, one step after the other. Needs CODEX_TENSORBOARD_PYTHON and CODEX_WANDB_BIN; takes
tens of minutes and about 9 GB under DIR at full size. The header of bench/every-point/run.ts says more.
`;
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}

function option(name: string): string | undefined {
  return process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const steps = Number(option('steps') ?? 10_000_000);
const out = path.resolve(option('out') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'codex-every-point-')));
const phases = (option('phases')?.split(',') ?? PHASES) as Phase[];
const floorBytes = Number(option('floor-gib') ?? 1.5) * 2 ** 30;
const tensorboardTimeoutMs = Number(option('tensorboard-timeout-s') ?? 3 * 3600) * 1000;
/** `--deadline=ISO time`: TensorBoard's check stops there too, saying how far it got. */
const deadline =
  option('deadline') === undefined ? Number.POSITIVE_INFINITY : Date.parse(option('deadline') as string);
for (const phase of phases)
  if (!PHASES.includes(phase)) throw new Error(`--phases: ${phase} is not one of ${PHASES.join(', ')}`);
if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps must be a positive integer`);

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const load = (): string =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
const say = (text: string): void =>
  void process.stderr.write(`every-point: ${new Date().toISOString()} ${text}\n`);

interface PhaseReport {
  phase: Phase;
  seconds: number;
  loadBefore: string;
  loadAfter: string;
  availableBefore: string;
  memory: MemoryReport | undefined;
  met: boolean;
  detail: Record<string, unknown>;
}

async function timed(
  phase: Phase,
  body: () => Promise<{ met: boolean; detail: Record<string, unknown>; memory?: MemoryReport }>,
): Promise<PhaseReport> {
  const loadBefore = load();
  const availableBefore = gib(availableBytes());
  say(`${phase}: start (MemAvailable ${availableBefore}, load ${loadBefore})`);
  const start = process.hrtime.bigint();
  const result = await body();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const report: PhaseReport = {
    phase,
    seconds,
    loadBefore,
    loadAfter: load(),
    availableBefore,
    memory: result.memory,
    met: result.met,
    detail: result.detail,
  };
  say(`${phase}: ${result.met ? 'met' : 'NOT met'} in ${seconds.toFixed(1)} s (load ${report.loadAfter})`);
  return report;
}

/** Runs a child to its end, watching its tree's memory; resolves with its stdout and exit code. */
async function runWatched(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string; memory: MemoryReport }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const watcher = watchMemory(child.pid as number, { everyMs: 1000, floorBytes });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  return { code, stdout, stderr, memory: watcher.stop() };
}

async function logPhase(): Promise<PhaseReport> {
  return timed('log', async () => {
    const child = await runWatched(process.execPath, [NEVER_YIELD, out, String(steps), 'never', 'all', '5']);
    const result = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as {
      logNsPerCall?: number;
      peakRssBytes?: number;
      health?: Array<[string, boolean]>;
    };
    const peak = result.peakRssBytes ?? Number.POSITIVE_INFINITY;
    const healthy = (result.health ?? []).length === 3 && (result.health ?? []).every(([, up]) => up);
    return {
      met: child.code === 0 && peak <= 200e6 && healthy,
      memory: child.memory,
      detail: {
        exitCode: child.code,
        logUsPerCall: (result.logNsPerCall ?? NaN) / 1000,
        peakRss: mib(peak),
        peakRssUnder200MB: peak <= 200e6,
        health: result.health,
        stderr: child.stderr.slice(-2000),
      },
    };
  });
}

async function ndjsonPhase(): Promise<PhaseReport> {
  return timed('ndjson', async () => {
    const file = path.join(out, '.codex', 'metrics.ndjson');
    const check = await countNdjsonRows(file, steps, NAMES);
    const want = steps * NAMES.length;
    return {
      met:
        check.rows === want &&
        check.lines === want &&
        check.completeSteps === steps &&
        check.duplicates === 0 &&
        check.unexpected === 0,
      detail: { file, bytes: fs.statSync(file).size, wantRows: want, ...check },
    };
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds (user + system) used so far by `root`'s tree. */
function treeCpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // ended meanwhile
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** Waits until `root`'s tree used under 0.5 s of CPU in 15 s: TensorBoard has read what it will. */
async function waitIdle(root: number, until: number): Promise<void> {
  let before = treeCpuSeconds(root);
  while (Date.now() < until) {
    await sleep(15_000);
    const now = treeCpuSeconds(root);
    if (now - before < 0.5) return;
    before = now;
  }
}

/** Streams one tag's points into `counter`; throws (the counter keeps what arrived) on a cut-off. */
async function streamScalars(
  url: string,
  run: string,
  tag: string,
  counter: ScalarPointsCounter,
  until: number,
): Promise<ScalarPointsCheck> {
  const response = await fetch(
    `${url}/data/plugin/scalars/scalars?run=${encodeURIComponent(run)}&tag=${encodeURIComponent(tag)}`,
    { signal: AbortSignal.timeout(Math.max(1, until - Date.now())) },
  );
  if (!response.ok || response.body === null)
    throw new Error(`GET scalars ${run} ${tag}: ${response.status} ${await response.text()}`);
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) counter.push(chunk);
  return counter.finish();
}

async function tensorboardPhase(): Promise<PhaseReport> {
  return timed('tensorboard', async () => {
    const python = process.env.CODEX_TENSORBOARD_PYTHON ?? 'python3';
    const args = ['--logdir', path.join(out, 'runs'), '--host', '127.0.0.1', '--port', '0'];
    args.push('--load_fast=true', '--samples_per_plugin', `scalars=${steps}`);
    const child = spawn(path.join(path.dirname(python), 'tensorboard'), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid as number;
    const watcher = watchMemory(pid, { everyMs: 2000, floorBytes });
    const started = Date.now();
    const until = Math.min(started + tensorboardTimeoutMs, deadline);
    let output = '';
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const tags: Record<string, ScalarPointsCheck & { seconds: number; tries: number }> = {};
    let reached = 'started';
    // The watcher killed the tree for memory: no point in asking again.
    const watcherStopped = (): boolean => availableBytes() < floorBytes;
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const look = (chunk: Buffer): void => {
          output += chunk.toString();
          const found = /http:\/\/127\.0\.0\.1:\d+/.exec(output);
          if (found !== null) resolve(found[0]);
        };
        child.stdout.on('data', look);
        child.stderr.on('data', look);
        child.once('exit', (code) =>
          reject(new Error(`tensorboard exited (${code}):\n${output.slice(-2000)}`)),
        );
      });
      reached = `listening at ${url} after ${((Date.now() - started) / 1000).toFixed(1)} s`;
      let run: string | undefined;
      while (run === undefined && Date.now() < until) {
        const listed = (await (await fetch(`${url}/data/plugin/scalars/tags`)).json()) as Record<
          string,
          Record<string, unknown>
        >;
        run = Object.keys(listed).find((name) => NAMES.every((tag) => tag in (listed[name] ?? {})));
        if (run === undefined) await sleep(5000);
      }
      if (run === undefined) throw new Error('the five train tags were never listed');
      reached = `tags of ${run} listed after ${((Date.now() - started) / 1000).toFixed(1)} s`;
      for (const tag of NAMES) {
        for (let tries = 1; Date.now() < until; tries++) {
          await waitIdle(pid, until);
          const tagStart = Date.now();
          const counter = new ScalarPointsCounter(steps);
          let check: ScalarPointsCheck;
          try {
            check = await streamScalars(url, run, tag, counter, until);
          } catch (error) {
            tags[tag] = { ...counter.progress(), seconds: (Date.now() - tagStart) / 1000, tries };
            throw new Error(`${tag}: cut off after ${counter.progress().points} points: ${String(error)}`);
          }
          tags[tag] = { ...check, seconds: (Date.now() - tagStart) / 1000, tries };
          say(
            `tensorboard: ${tag}: ${check.points} points, ${check.distinctInRange} distinct steps (try ${tries})`,
          );
          if (check.distinctInRange === steps || watcherStopped()) break;
        }
        if (watcherStopped()) break;
      }
      reached = `every tag read ${((Date.now() - started) / 1000).toFixed(1)} s after the start`;
    } catch (error) {
      reached += `; then: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      // Stopped by PID: TensorBoard, then whatever of its tree (the data server) outlives it.
      const tree = processTree(pid);
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      for (const left of tree.reverse()) {
        try {
          process.kill(left, 'SIGKILL');
        } catch {
          // ended with its parent
        }
      }
    }
    const memory = watcher.stop();
    const met =
      memory.stoppedBecause === undefined &&
      NAMES.every((tag) => {
        const check = tags[tag];
        return (
          check !== undefined &&
          check.points === steps &&
          check.distinctInRange === steps &&
          check.duplicates === 0 &&
          check.outOfRange === 0 &&
          check.malformed === 0 &&
          check.minStep === 0 &&
          check.maxStep === steps - 1
        );
      });
    return { met, memory, detail: { reached, tags, output: output.slice(-2000) } };
  });
}

async function wandbPhase(): Promise<PhaseReport> {
  return timed('wandb', async () => {
    const wandbDir = path.join(out, 'wandb');
    const name = fs.readdirSync(wandbDir).find((entry) => entry.startsWith('offline-run-'));
    if (name === undefined) throw new Error(`${wandbDir} holds no offline-run-*: run the log step first`);
    const runDir = path.join(wandbDir, name);
    // `wandb sync` skips a run it marked synced: the marker goes, so a rerun uploads it all again.
    for (const entry of fs.readdirSync(runDir)) {
      if (entry.endsWith('.wandb.synced') || entry.endsWith('.wandb.syncstate'))
        fs.rmSync(path.join(runDir, entry));
    }
    const server = await startStandinServer({ keepHistory: false });
    const watcher = watchMemory(process.pid, { everyMs: 2000, floorBytes });
    let sync;
    try {
      sync = await wandbSync([runDir], server.url, {
        entity: 'bench',
        project: 'every-point',
        timeoutMs: 4 * 3600_000,
      });
    } finally {
      await server.close();
    }
    const memory = watcher.stop();
    const runs = [...server.runs.entries()];
    const [runId, synced] = runs[0] ?? [];
    const check = synced?.historyCheck;
    const met =
      sync.code === 0 &&
      runs.length === 1 &&
      check !== undefined &&
      check.rows === steps &&
      check.offsetProblems.length === 0 &&
      check.stepProblems.length === 0 &&
      check.lastStep === steps - 1 &&
      synced?.complete === true &&
      server.unexpected.length === 0;
    return {
      met,
      memory,
      detail: {
        exitCode: sync.code,
        runId,
        history: check,
        complete: synced?.complete,
        runExitCode: synced?.exitCode,
        unexpected: server.unexpected,
        coreProblems: sync.coreProblems.slice(0, 10),
        output: sync.output.slice(-1500),
      },
    };
  });
}

const RUNNERS: Record<Phase, () => Promise<PhaseReport>> = {
  log: logPhase,
  ndjson: ndjsonPhase,
  tensorboard: tensorboardPhase,
  wandb: wandbPhase,
};

fs.mkdirSync(out, { recursive: true });
say(`${steps} steps into ${out}; phases ${phases.join(', ')}`);
const reports: PhaseReport[] = [];
for (const phase of phases) {
  reports.push(await RUNNERS[phase]());
  fs.writeFileSync(
    path.join(out, 'every-point-report.json'),
    JSON.stringify({ steps, out, reports }, null, 2) + '\n',
  );
}
for (const report of reports) {
  const peaks = (report.memory?.processes ?? [])
    .filter((peak) => peak.peakRssBytes > 20 * 2 ** 20)
    .map(
      (peak) =>
        `${peak.command
          .split(' ')
          .slice(0, 2)
          .map((part) => path.basename(part))
          .join(' ')}: ${mib(peak.peakRssBytes)}`,
    );
  process.stdout.write(
    `${report.phase}: ${report.met ? 'met' : 'NOT met'}, ${report.seconds.toFixed(1)} s, load ${report.loadBefore} -> ${report.loadAfter}` +
      `${peaks.length > 0 ? `, peak RSS ${peaks.join('; ')}` : ''}` +
      `${report.memory?.stoppedBecause ? `, STOPPED: ${report.memory.stoppedBecause}` : ''}\n` +
      `  ${JSON.stringify(report.detail, (key, value: unknown) => (key === 'output' || key === 'stderr' ? undefined : value))}\n`,
  );
}
if (reports.some((report) => !report.met)) process.exitCode = 1;
