import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSummarizeArgs, summarizeCommand } from '../../src/cli/summarize-command.js';
import { startTelemetry } from '../../src/telemetry.js';

const SMALL = fileURLToPath(new URL('../fixtures/summarize/small.ndjson', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-sum-'));
  dirs.push(dir);
  return dir;
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await summarizeCommand(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

interface JsonRow {
  phase: string;
  name: string;
  count: number;
  first: number | string;
  last: number | string;
  min: number | string;
  max: number | string;
  mean: number | string;
  best?: { value: number; step: number };
  nonFinite: number;
}
async function json(
  argv: string[],
): Promise<{
  header: Record<string, unknown>;
  metrics: JsonRow[];
  system: Array<{ key: string; mean: number; peak: number }>;
}> {
  const result = await run([...argv, '--format', 'json']);
  return JSON.parse(result.stdout) as never;
}
const row = (rows: JsonRow[], phase: string, name: string): JsonRow | undefined =>
  rows.find((r) => r.phase === phase && r.name === name);

describe('codex-ndjson summarize', () => {
  it('computes the hand-checked figures of a train + eval + system fixture', async () => {
    const card = await json([SMALL]);
    expect(row(card.metrics, 'train', 'loss')).toMatchObject({
      count: 4,
      first: 4,
      last: 1,
      min: 1,
      max: 4,
      mean: 7 / 3,
      best: { value: 1, step: 3 },
      nonFinite: 1,
    });
    expect(row(card.metrics, 'train', 'acc')).toMatchObject({
      count: 2,
      first: 0.5,
      last: 0.75,
      mean: 0.625,
      best: { value: 0.75, step: 1 },
    });
    expect(row(card.metrics, 'eval', 'loss')).toMatchObject({ count: 1, last: 1.5 });
    expect(card.system.find((s) => s.key === 'cpu_percent')).toMatchObject({ mean: 20, peak: 30 });
    expect(card.system.find((s) => s.key === 'ram_used_bytes')).toMatchObject({ mean: 2000, peak: 3000 });
    expect(card.system.find((s) => s.key === 'gpu_0_util_percent')).toMatchObject({ mean: 60, peak: 70 });
    expect(card.header).toMatchObject({
      runIds: ['runA0001'],
      lines: 13,
      malformed: 3,
      tsMin: 1700000000.5,
      tsMax: 1700000006,
    });
  });

  it('keeps steps beyond 2^53 exact in its output', async () => {
    const result = await run([SMALL, '--format', 'json']);
    expect(result.stdout).toContain('"stepMax": 9223372036854775807');
    expect(result.stdout).toMatch(/"lastStep": 9223372036854775807/);
  });

  it('counts malformed lines, reports the first with file:line and the field, and --strict exits 1', async () => {
    const lenient = await run([SMALL]);
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toContain(`${SMALL}:6: not JSON`);
    expect(lenient.stderr).toContain(`${SMALL}:12: field "step"`);
    expect(lenient.stderr).toContain(`${SMALL}:13: truncated last line`);
    expect((await run([SMALL, '--strict'])).code).toBe(1);
  });

  it('reads gzip input to the same summary', async () => {
    const dir = tmpDir();
    const gz = path.join(dir, 'small.ndjson.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(SMALL)));
    const plain = await json([SMALL]);
    const zipped = await json([gz]);
    expect(zipped.metrics).toEqual(plain.metrics);
    expect(zipped.header.malformed).toBe(3);
  });

  it('renders every format: table with sparklines, markdown, csv, and an html report with one chart per metric', async () => {
    expect((await run([SMALL])).stdout).toMatch(/loss .*[▁▂▃▄▅▆▇█]/);
    const markdown = (await run([SMALL, '--format', 'markdown'])).stdout;
    expect(markdown).toMatch(/^\| phase \| metric \| count/m);
    const csv = (await run([SMALL, '--format', 'csv'])).stdout.trim().split('\n');
    expect(csv[0]).toBe(
      'phase,metric,count,first,first_step,last,last_step,min,max,mean,goal,best,best_step,non_finite',
    );
    expect(csv).toContain('train,loss,4,4,0,1,3,1,4,2.3333333333333335,min,1,3,1');
    const dir = tmpDir();
    const out = path.join(dir, 'report.html');
    expect((await run([SMALL, '--format', 'html', '--out', out])).code).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<script(?! type="application\/json")/); // no scripts: opens offline
    expect(html).not.toMatch(/https?:\/\//);
    const charts = [...html.matchAll(/<svg class="chart" data-metric="([^"]+)"/g)].map((m) => m[1]);
    expect(charts.sort()).toEqual(['acc', 'big', 'loss']);
    const lossChart = html.slice(
      html.indexOf('data-metric="loss"'),
      html.indexOf('</svg>', html.indexOf('data-metric="loss"')),
    );
    expect([...lossChart.matchAll(/data-phase="(\w+)"/g)].map((m) => m[1])).toEqual(['train', 'eval']);
    const embedded = JSON.parse(
      /<script type="application\/json" id="codex-scorecard">([\s\S]*?)<\/script>/.exec(html)?.[1] as string,
    ) as { metrics: JsonRow[] };
    expect(row(embedded.metrics, 'train', 'loss')?.count).toBe(4);
  });

  it('--compare shows two runs side by side with deltas and which is better', async () => {
    const dir = tmpDir();
    const a = path.join(dir, 'a.ndjson');
    const b = path.join(dir, 'b.ndjson');
    fs.writeFileSync(
      a,
      '{"step":0,"loss":2}\n{"step":1,"loss":1}\n{"step":1,"accuracy":0.5,"phase":"eval"}\n',
    );
    fs.writeFileSync(
      b,
      '{"step":0,"loss":2}\n{"step":1,"loss":0.5}\n{"step":1,"accuracy":0.75,"phase":"eval"}\n',
    );
    const { code, stdout } = await run(['--compare', a, b]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/train\s+loss\s+min\s+1\s+0\.5\s+-0\.5\s+1 \(1\)\s+0\.5 \(1\)\s+-0\.5\s+yes/);
    expect(stdout).toMatch(/eval\s+accuracy\s+max\s+0\.5\s+0\.75\s+\+0\.25/);
  });

  it('summarizes a rotated stream (gzip segments included) exactly like the same stream unrotated', async () => {
    const make = async (rotate: boolean): Promise<string> => {
      const outDir = tmpDir();
      const telemetry = await startTelemetry(
        {
          outDir,
          runId: 'same0001',
          systemMetricsInterval: 0,
          installExitHandlers: false,
          flushInterval: 0.01,
          ...(rotate ? { metricsRotateBytes: 8000, metricsRotateGzip: true } : {}),
        },
        { env: {}, info: () => undefined },
      );
      for (let step = 0; step < 2000; step++) {
        telemetry.log({ loss: 1 / (step + 1), acc: step / 2000 }, { step });
        if (step % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 3));
      }
      await telemetry.shutdown();
      return path.join(outDir, '.codex');
    };
    const rotated = await make(true);
    expect(fs.readdirSync(rotated).filter((name) => name.endsWith('.ndjson.gz')).length).toBeGreaterThan(3);
    const a = await json([await make(false)]);
    const b = await json([rotated]);
    expect(b.metrics).toEqual(a.metrics);
    expect(b.header.lines).toBe(a.header.lines);
  });

  it('exits 2 with a message that says what to do on usage errors', async () => {
    expect(parseSummarizeArgs([])).toMatchObject({ ok: false });
    const bad = await run([SMALL, '--format', 'pdf']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format must be one of table, markdown, json, csv, html');
    expect((await run(['/nonexistent/file.ndjson'])).code).toBe(2);
    expect((await run([SMALL, '--goal', 'loss=lowest'])).stderr).toContain(
      '--goal takes NAME=min or NAME=max',
    );
  });

  it('gives the same summary whichever parser reads a line (fast path for our layout, JSON.parse otherwise)', async () => {
    const dir = tmpDir();
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            step: fc.nat({ max: 10_000 }),
            name: fc.constantFrom('loss', 'acc', 'métrique/α', 'lr'),
            value: fc.oneof(fc.double({ noNaN: false }), fc.integer()),
            phase: fc.constantFrom('train', 'eval'),
          }),
          { minLength: 1, maxLength: 50 },
        ),
        async (rows) => {
          const ours = rows.map(
            (r) =>
              `{"v":1,"ts":1700000000.5,"run_id":"r","step":${r.step},"name":${JSON.stringify(r.name)},"value":${Number.isFinite(r.value) ? (Object.is(r.value, -0) ? '-0' : String(r.value)) : JSON.stringify(String(r.value))},"tags":{"phase":"${r.phase}"}}`,
          );
          const reordered = rows.map((r) =>
            JSON.stringify({
              tags: { phase: r.phase },
              value: Number.isFinite(r.value) ? r.value : String(r.value),
              name: r.name,
              step: r.step,
              run_id: 'r',
              ts: 1700000000.5,
              v: 1,
            }),
          );
          fs.writeFileSync(path.join(dir, 'a.ndjson'), `${ours.join('\n')}\n`);
          fs.writeFileSync(path.join(dir, 'b.ndjson'), `${reordered.join('\n')}\n`);
          const a = await json([path.join(dir, 'a.ndjson')]);
          const b = await json([path.join(dir, 'b.ndjson')]);
          expect(b.metrics).toEqual(a.metrics);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never crashes on random bytes; every non-empty line is summarized or counted malformed', async () => {
    const dir = tmpDir();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4000 }), async (bytes) => {
        const file = path.join(dir, 'random.ndjson');
        fs.writeFileSync(file, bytes);
        const result = await run([file, '--format', 'json']);
        expect(result.code).toBe(0);
        const card = JSON.parse(result.stdout) as { header: { lines: number; malformed: number } };
        const nonEmpty = Buffer.from(bytes)
          .toString('latin1')
          .split('\n')
          .filter((line) => line.length > 0).length;
        expect(card.header.lines).toBe(nonEmpty);
      }),
      { numRuns: 100 },
    );
  });
});
