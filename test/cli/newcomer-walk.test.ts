/**
 * The newcomer walk: README's commands of our two CLIs, in order, in a fresh temporary folder (the
 * set-up being the example trainer a clone has), then every command's --help, then the usual
 * stumbles, each with its exit code and message.
 *
 * README marks a command meant to fail with `# exit N`, and one that runs until interrupted with
 * `until Ctrl-C` (it gets a SIGINT after a few seconds and must exit 0). `npm` lines are the set-up
 * the checkout running this test has already done. `npx codex-…` runs the built bin directly: npx
 * resolves to the same file, at several seconds of npm start-up per call.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnAsync, type SpawnResult } from '../helpers/spawn-async.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BINS: Record<string, string> = {
  'codex-telemetry': path.join(ROOT, 'dist/src/cli/codex-telemetry.js'),
  'codex-ndjson': path.join(ROOT, 'dist/src/cli/codex-ndjson.js'),
};
const built = fs.existsSync(BINS['codex-telemetry'] as string);
const hasPython = spawnSync('python3', ['--version']).status === 0;
if (process.env.CI && (!built || !hasPython))
  throw new Error('the README walk needs npm run build and python3');

interface ReadmeCommand {
  line: string;
  command: string;
  exit: number;
  untilInterrupted: boolean;
}

/** Every command of our CLIs in README's sh blocks, in order, with its marks. */
export function readmeCommands(readme: string): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  for (const block of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of (block[1] as string).split('\n')) {
      const hash = line.search(/\s#\s/);
      const code = (hash === -1 ? line : line.slice(0, hash)).trim();
      const comment = hash === -1 ? '' : line.slice(hash);
      for (const part of code.split('&&').map((p) => p.trim())) {
        if (!/^npx codex-(telemetry|ndjson)\b/.test(part)) continue;
        commands.push({
          line,
          command: part,
          exit: Number(/#\s*exit (\d+)/.exec(comment)?.[1] ?? 0),
          untilInterrupted: /until Ctrl-C/.test(comment),
        });
      }
    }
  }
  return commands;
}

let dir: string;
const env = (): NodeJS.ProcessEnv => ({ ...process.env, CODEX_PROMETHEUS: undefined, NO_COLOR: '1' });

function shellCommand(command: string): string {
  return command.replace(
    /^npx (codex-telemetry|codex-ndjson)/,
    (_m, bin: string) => `"${process.execPath}" "${BINS[bin]}"`,
  );
}

function run(command: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<SpawnResult> {
  return spawnAsync('sh', ['-c', shellCommand(command)], {
    cwd: dir,
    env: { ...env(), ...extraEnv },
    timeout: 120_000,
  });
}

async function runUntilInterrupted(
  command: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('sh', ['-c', `exec ${shellCommand(command)}`], { cwd: dir, env: env() });
  let stdout = '';
  let stderr = '';
  let output = '';
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  // Ctrl-C once the command says it is serving (its URL line), however long a loaded machine takes.
  const serving = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/http:\/\//.test(output)) resolve();
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onData(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      onData(chunk);
    });
  });
  const ready = await Promise.race([serving.then(() => true), closed.then(() => false)]);
  if (ready) child.kill('SIGINT');
  const code = await closed;
  return { code, stdout, stderr };
}

/** A number captured by `pattern` in `text`, or NaN when the line is not there. */
function counted(text: string, pattern: RegExp): number {
  return Number(pattern.exec(text)?.[1] ?? NaN);
}

type Outcome = { stdout: string; stderr: string };

/**
 * What each README command must have done, beyond its exit code: its line's promise, checked. A
 * README command without an entry here fails the walk, so a new line comes with its check.
 */
const DOES_WHAT_ITS_LINE_SAYS: [RegExp, (outcome: Outcome) => void][] = [
  [
    /codex-telemetry demo --out demo-out$/,
    ({ stdout }) => {
      for (const sink of ['ndjson', 'ndjson_eval', 'tensorboard', 'wandb'])
        expect(stdout, sink).toMatch(new RegExp(`^${sink}\\s+written\\s+\\S`, 'm'));
      expect(fs.readdirSync(path.join(dir, 'demo-out/checkpoints'))).toHaveLength(1);
    },
  ],
  [
    /codex-telemetry run --out runs\/exp1 -- python3 examples\/python\/train.py --steps 50$/,
    ({ stderr }) => {
      expect(stderr).toMatch(/trainer exited with 0;/);
      // 50 train steps (3 scalars a line) and 5 evals: every one re-exported.
      expect(counted(stderr, /(\d+) rows re-exported/)).toBeGreaterThanOrEqual(55);
    },
  ],
  [
    /tail --from-start --out replay runs\/exp1\/\.codex\/metrics\.ndjson$/,
    ({ stdout }) => expect(counted(stdout, /(\d+) rows replayed, 0 malformed/)).toBeGreaterThanOrEqual(50),
  ],
  [
    /tail --follow --out live runs\/exp1\/\.codex\/metrics\.ndjson$/,
    ({ stdout, stderr }) => {
      expect(`${stdout}${stderr}`).toMatch(/metrics: http:\/\//);
      expect(counted(stdout, /(\d+) rows replayed/)).toBeGreaterThanOrEqual(0);
    },
  ],
  [
    /tail --from-start missing\.ndjson$/,
    ({ stderr }) => expect(stderr).toContain(path.join(dir, 'missing.ndjson')),
  ],
  [
    /summarize demo-out\/\.codex$/,
    ({ stdout }) => {
      expect(stdout).toMatch(/^\s+loss\s/m);
      expect(stdout).toMatch(/^eval/m);
      expect(stdout).toMatch(/^system/m);
    },
  ],
  [
    /summarize demo-out\/\.codex --format html --out demo-out\/report\.html$/,
    () =>
      expect(fs.readFileSync(path.join(dir, 'demo-out/report.html'), 'utf8')).toMatch(/^<!doctype html>/i),
  ],
  [
    /summarize --compare demo-out\/\.codex runs\/exp1\/\.codex$/,
    ({ stdout }) => {
      expect(stdout).toMatch(/A = demo-out\/\.codex, B = runs\/exp1\/\.codex/);
      expect(stdout).toMatch(/^\s+loss\s+\S+\s+\S+\s+-?\d/m);
      expect(stdout).not.toMatch(/\bNaN\b/);
    },
  ],
  [/wandb ls demo-out\/wandb$/, ({ stdout }) => expect(stdout).toMatch(/^1 run, 1 not synced/m)],
  [
    /summarize demo-out\/runs demo-out\/wandb$/,
    ({ stdout }) => {
      // The demo's own TensorBoard runs (one per phase) and its W&B run, each read directly.
      expect(stdout).toMatch(/^\s+source\s+TensorBoard run \S+\/train$/m);
      expect(stdout).toMatch(/^\s+source\s+TensorBoard run \S+\/eval$/m);
      expect(stdout).toMatch(/^\s+source\s+W&B run /m);
      expect(stdout).toMatch(/^\s+loss\s/m);
    },
  ],
  [
    /summarize demo-out --source wandb$/,
    ({ stdout }) => {
      expect(stdout).toMatch(/^\s+state\s+finished, exit code 0$/m);
      expect(stdout).not.toMatch(/TensorBoard run/);
    },
  ],
  [
    /summarize --compare demo-out\/\.codex demo-out\/runs demo-out\/wandb$/,
    ({ stdout }) => {
      expect(stdout).toMatch(/A = demo-out\/\.codex, B = demo-out\/runs/);
      expect(stdout).toMatch(/A = demo-out\/\.codex, B = demo-out\/wandb/);
      expect(stdout).not.toMatch(/\bNaN\b/);
    },
  ],
  [/dashboard demo-out --source tfevents$/, ({ stdout }) => expect(stdout).toMatch(/^dashboard: http:\/\//m)],
  [
    /manifest demo-out\/checkpoints\/\*\/step-299\.ckpt --step 299$/,
    ({ stdout }) => {
      const written = stdout.trim();
      expect(written).toMatch(/step-299\.ckpt\.run_manifest\.json$/);
      const manifest = JSON.parse(fs.readFileSync(written, 'utf8')) as { run_id: unknown; step: unknown };
      // The demo's run id, kept: the checkpoint lies under checkpoints/<runId>/.
      expect(manifest.run_id).toBe(path.basename(path.dirname(written)));
      expect(manifest.step).toBe(299);
    },
  ],
  [/dashboard runs\/$/, ({ stdout }) => expect(stdout).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m)],
  [
    /dashboard demo-out --port 8080 --host 127\.0\.0\.1$/,
    ({ stdout }) => expect(stdout).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m),
  ],
];

function checked(command: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof Error)
      error.message = `"${command}" does not do what its README line says: ${error.message}`;
    throw error;
  }
}

function checkOf(command: string): (outcome: Outcome) => void {
  const checks = DOES_WHAT_ITS_LINE_SAYS.filter(([pattern]) => pattern.test(command));
  expect(checks, `README command without one check of what its line says: ${command}`).toHaveLength(1);
  return (checks[0] as [RegExp, (outcome: Outcome) => void])[1];
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-walk-'));
  fs.cpSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'), { recursive: true });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.runIf(built && hasPython)('the newcomer walk', () => {
  it("runs README's commands as written, in order, each with its marked exit code", async () => {
    const commands = readmeCommands(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect(commands.length).toBeGreaterThanOrEqual(8);
    for (const c of commands) {
      const check = checkOf(c.command);
      if (c.untilInterrupted) {
        const result = await runUntilInterrupted(c.command);
        expect(result.code, `${c.command}\n${result.stderr}`).toBe(0);
        checked(c.command, () => check(result));
        continue;
      }
      const result = await run(c.command);
      expect(result.status, `${c.command}\n${result.stderr}`).toBe(c.exit);
      checked(c.command, () => check(result));
      // Diagnostics are single lines of ours, never Node's warning framing or a doubled errno.
      expect(result.stderr).not.toMatch(/\(node:\d+\)|--trace-warnings|\b(E[A-Z]+): \1:/);
    }
    // What the walk produced is where README says, and ignored by git and prettier.
    for (const out of ['demo-out', 'runs', 'replay'])
      expect(fs.existsSync(path.join(dir, out)), out).toBe(true);
    const ignored = fs.readFileSync(path.join(ROOT, '.prettierignore'), 'utf8');
    const gitignored = fs.readFileSync(path.join(ROOT, '.gitignore'), 'utf8');
    for (const out of ['demo-out', 'runs', 'replay', 'live']) {
      expect(ignored).toMatch(new RegExp(`^/?${out}/?$`, 'm'));
      expect(gitignored).toMatch(new RegExp(`^/?${out}/?$`, 'm'));
    }
  }, 300_000);

  it('prints usage and exits 0 for --help and -h on every command and subcommand of both CLIs', async () => {
    for (const command of [
      'npx codex-telemetry --help',
      'npx codex-telemetry -h',
      'npx codex-telemetry demo --help',
      'npx codex-telemetry run --help',
      'npx codex-telemetry tail -h',
      'npx codex-telemetry manifest --help',
      'npx codex-telemetry wandb --help',
      'npx codex-telemetry wandb ls --help',
      'npx codex-ndjson --help',
      'npx codex-ndjson summarize --help',
    ]) {
      const result = await run(command);
      expect(result.status, command).toBe(0);
      expect(result.stdout, command).toMatch(/usage/i);
      expect(result.stderr, command).toBe('');
    }
  });

  it('answers --version and -V on both CLIs and every command, as README says', async () => {
    for (const command of [
      'npx codex-telemetry --version',
      'npx codex-telemetry -V',
      'npx codex-ndjson -V',
      'npx codex-telemetry demo -V',
      'npx codex-telemetry run -V',
      'npx codex-telemetry tail -V',
      'npx codex-telemetry manifest -V',
      'npx codex-telemetry wandb ls -V',
      'npx codex-telemetry dashboard -V',
      'npx codex-ndjson summarize -V',
    ]) {
      const result = await run(command);
      expect(result.status, command).toBe(0);
      expect(result.stdout, command).toMatch(/^codex-(telemetry|ndjson) \d+\.\d+\.\d+\n$/);
    }
  });

  it('refuses the usual stumbles with exit 2 and a message that says what to do', async () => {
    const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
      ['npx codex-telemetry', {}, /Usage: codex-telemetry/],
      ['npx codex-ndjson', {}, /Usage: codex-ndjson/],
      ['npx codex-telemetry run --steps 5 -- true', {}, /--steps is an option of demo, not of run/],
      ['npx codex-telemetry demo --stpes 5', {}, /did you mean --steps\?/],
      [
        'npx codex-telemetry demo --system-metrics-interval -1',
        {},
        /--system-metrics-interval must be a number >= 0, got "-1"/,
      ],
      ['npx codex-telemetry demo', { CODEX_SYSTEM_METRICS_INTERVAL: '-1' }, /CODEX_SYSTEM_METRICS_INTERVAL/],
      [
        'npx codex-telemetry tail x.ndjson',
        { CODEX_SYSTEM_METRICS_INTERVAL: 'abc' },
        /CODEX_SYSTEM_METRICS_INTERVAL.*"abc"/,
      ],
      [
        'npx codex-telemetry demo',
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'not-a-url' },
        /OTEL_EXPORTER_OTLP_ENDPOINT.*http/,
      ],
      ['npx codex-ndjson summarize --compare one.ndjson', {}, /--compare needs at least two runs/],
      ['npx codex-telemetry manifest --bogus', {}, /^codex-telemetry: unknown option --bogus\n/],
      ['npx codex-telemetry dashboard --port -1', {}, /^codex-telemetry: --port must be a whole number/],
      ['npx codex-ndjson summarize --bogus', {}, /^codex-ndjson: unknown option --bogus\n/],
      ['npx codex-ndjson summarize nowhere.ndjson', {}, /nowhere\.ndjson: no such file/],
      ['npx codex-telemetry wandb ls nonexist', {}, /no such folder: nonexist/],
    ];
    for (const [command, extra, message] of cases) {
      const result = await run(command, extra);
      expect(result.status, command).toBe(2);
      expect(result.stderr, command).toMatch(message);
      expect(result.stdout, command).toBe('');
      // A bad argument: one line of ours and where help is (the bare command answers with the usage).
      if (Object.keys(extra).length === 0 && !/^npx codex-\w+$/.test(command))
        expect(result.stderr, command).toMatch(/^[^\n]+\nRun "codex-[^"]+ --help" for usage\.\n$/);
    }
  });

  it('honours CODEX_TENSORBOARD=0, CODEX_WANDB_ENABLE=0 and CODEX_PROMETHEUS=0 in the demo', async () => {
    const result = await run('npx codex-telemetry demo --steps 5 --step-delay-ms 0 --out env-off', {
      CODEX_TENSORBOARD: '0',
      CODEX_WANDB_ENABLE: '0',
      CODEX_PROMETHEUS: '0',
      CODEX_SYSTEM_METRICS_INTERVAL: '0',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'env-off')).sort()).toEqual(['.codex', 'checkpoints']);
    expect(result.stdout).not.toMatch(/tensorboard|wandb|prometheus|system/);
  });

  it('ends the demo with every sink DOWN and exit 1 when nothing could be written', async () => {
    fs.writeFileSync(path.join(dir, 'blocker'), 'a file where a folder should be');
    const result = await run(
      'npx codex-telemetry demo --steps 5 --step-delay-ms 0 --prometheus-port 0 --out blocker/out',
    );
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^ndjson\s+DOWN\s+cannot write .*ENOTDIR/m);
    expect(result.stdout).toMatch(/^tensorboard\s+DOWN/m);
    expect(result.stdout).toMatch(/^wandb\s+DOWN/m);
    expect(result.stdout).not.toMatch(/\bwritten\b/);
    expect(result.stderr).not.toMatch(/ENOTDIR: ENOTDIR|\(node:\d+\)/);
    // Warnings go to stderr once each, not again on stdout.
    expect(result.stdout).not.toContain('sink disabled');
  });

  it('reads a quoted glob in tail instead of reading nothing and exiting 0', async () => {
    fs.mkdirSync(path.join(dir, 'globbed'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'globbed/a.ndjson'), '{"step": 0, "loss": 1}\n{"step": 1, "loss": 2}\n');
    fs.writeFileSync(path.join(dir, 'globbed/b.ndjson'), '{"step": 0, "acc": 1}\n');
    const result = await run(
      "npx codex-telemetry tail --from-start --no-prometheus --out tailed 'globbed/*.ndjson'",
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/tail: 3 lines, 3 rows replayed, 0 malformed/);
  });

  it('makes tail --from-start on a missing file an error naming it, creating no W&B run or bridge file', async () => {
    const result = await run('npx codex-telemetry tail --from-start --out tail-missing nowhere.ndjson');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(path.join(dir, 'nowhere.ndjson'));
    expect(result.stdout).not.toMatch(/0 lines/);
    expect(fs.existsSync(path.join(dir, 'tail-missing'))).toBe(false);
  });

  it('refuses a CODEX_METRICS_OUT that is a folder before starting the trainer, with no stack trace', async () => {
    fs.mkdirSync(path.join(dir, 'a-folder'), { recursive: true });
    const result = await run(
      'npx codex-telemetry run --no-prometheus --out run-eisdir -- sh -c "touch started"',
      {
        CODEX_METRICS_OUT: path.join(dir, 'a-folder'),
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/CODEX_METRICS_OUT is a folder/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(dir, 'started'))).toBe(false);
  });

  it('stops the trainer when the bridge fails mid-run, and says so in one line', async () => {
    // The trainer turns its own metrics path into a folder: reading it fails while the trainer sleeps on.
    const script = 'echo $$ > trainer.pid; mkdir -p "$CODEX_METRICS_OUT"; exec sleep 60';
    const started = Date.now();
    const result = await run(
      `npx codex-telemetry run --no-prometheus --kill-grace 1 --out run-fail -- sh -c '${script}'`,
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.stderr).toMatch(
      /run failed \(cannot read the trainer's metrics: .*EISDIR.*\); the trainer was stopped/,
    );
    expect(result.status).not.toBe(0);
    const pid = Number(fs.readFileSync(path.join(dir, 'trainer.pid'), 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }) as Error);
    // The W&B run was ended with that outcome: it has its files and the run says where they are.
    expect(result.stderr).toMatch(/^wandb\s+written/m);
  });

  it('warns once, naming CODEX_METRICS_OUT, when the trainer writes no row in time', async () => {
    const result = await run(
      'npx codex-telemetry run --no-prometheus --first-row-timeout 1 --out run-quiet -- sleep 3',
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr.match(/no row from the trainer in 1 s; .*\$CODEX_METRICS_OUT/g)).toHaveLength(1);
  });
});
