import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRecordLine } from '../../src/ndjson/line/parse-record.js';
import type { MalformedLine, MetricVisitor, PhaseId } from '../../src/ndjson/line/metric-visitor.js';
import { NameTable } from '../../src/ndjson/line/name-table.js';
import { readMetricRecords } from '../../src/ndjson/read-metric-records.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ndjson-prop-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const PHASES = ['train', 'eval', 'system'] as const;

class Recorder implements MetricVisitor {
  readonly names = new NameTable();
  readonly runs = new NameTable();
  readonly scalars: [string, string, number | bigint, number][] = [];
  readonly faults: MalformedLine[] = [];
  scalar(
    phase: PhaseId,
    name: number,
    _run: number,
    step: number | bigint,
    _ts: number,
    value: number,
  ): void {
    this.scalars.push([PHASES[phase], this.names.name(name), step, value]);
  }
  malformed(line: MalformedLine): void {
    this.faults.push(line);
  }
}

async function readBytes(bytes: Uint8Array, chunkBytes: number): Promise<Recorder & { lines: number }> {
  const file = path.join(dir, 'p.ndjson');
  fs.writeFileSync(file, bytes);
  const r = new Recorder();
  const stats = await readMetricRecords(file, r, { names: r.names, runs: r.runs }, { chunkBytes });
  return Object.assign(r, { lines: stats.lines });
}

const valueText = fc.oneof(
  fc
    .double()
    .map((x) => (Number.isFinite(x) ? (Object.is(x, -0) ? '-0' : String(x)) : JSON.stringify(String(x)))),
  fc.constantFrom('"NaN"', '"Infinity"', '"-Infinity"', '"oops"', 'null', 'true'),
);
const stepText = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(1n << 64n), max: 1n << 64n }).map(String),
  fc.constantFrom('1.5', '"3"', 'null'),
);
const name = fc.oneof(
  fc.constantFrom('loss', 'acc', 'eval/f1', 'système', 'a"b', 'values'),
  fc.string({ maxLength: 6 }),
);
/** Lines in our writer's exact form, other key orders, plain rows and system snapshots. */
const lineText = fc.oneof(
  fc
    .tuple(
      fc.double({ min: 0, max: 2e9, noNaN: true }),
      stepText,
      name,
      valueText,
      fc.constantFrom('train', 'eval', 'system', 'test'),
    )
    .map(
      ([ts, step, n, v, phase]) =>
        `{"v":1,"ts":${ts},"run_id":"r1","step":${step},"name":${JSON.stringify(n)},"value":${v},"tags":{"phase":"${phase}"}}`,
    ),
  fc
    .tuple(stepText, name, valueText, fc.boolean())
    .map(([step, n, v, flip]) =>
      flip
        ? `{"name":${JSON.stringify(n)},"value":${v},"step":${step}}`
        : `{"step":${step},${JSON.stringify(n)}:${v},"phase":"eval"}`,
    ),
  fc.tuple(stepText, fc.dictionary(name, valueText, { maxKeys: 4 })).map(
    ([step, values]) =>
      `{"step":${step},"name":"system","values":{${Object.entries(values)
        .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
        .join(',')}}}`,
  ),
  fc.string({ maxLength: 30 }).map((s) => s.replace(/\n/g, ' ')),
);

describe('reader properties', () => {
  it('agrees line by line with the bridge parser (src/ndjson/line/parse-record.ts) on generated lines', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineText, { maxLength: 25 }),
        fc.integer({ min: 16, max: 4096 }),
        async (lines, chunkBytes) => {
          const r = await readBytes(Buffer.from(lines.map((l) => `${l}\n`).join('')), chunkBytes);
          const expected: [string, string, number | bigint, number][] = [];
          let faults = 0;
          for (const line of lines) {
            // Only empty lines are blank (a trailing \r is a CRLF ending); whitespace is malformed JSON for both.
            if (line.replace(/\r$/, '') === '') continue;
            const parsed = parseRecordLine(line);
            if (!parsed.ok) {
              faults++;
              continue;
            }
            const { row } = parsed;
            row.names.forEach((n, i) =>
              expected.push([row.phase, n, row.step ?? NaN, row.values[i] as number]),
            );
          }
          expect(r.faults.length).toBe(faults);
          expect(r.scalars).toEqual(expected);
          expect(r.lines).toBe(lines.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never throws on random bytes, and every non-blank line is either read or counted malformed once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 400 }),
        fc.integer({ min: 8, max: 512 }),
        async (bytes, chunkBytes) => {
          const r = await readBytes(bytes, chunkBytes);
          const text = Buffer.from(bytes);
          const lines =
            text.length === 0
              ? 0
              : text.toString('latin1').split('\n').length - (text[text.length - 1] === 10 ? 1 : 0);
          expect(r.lines).toBe(lines);
          expect(r.faults.length).toBeLessThanOrEqual(lines);
          const faultLines = new Set(r.faults.map((f) => f.line));
          expect(faultLines.size).toBe(r.faults.length);
          for (const f of r.faults) expect(f.line).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 300 },
    );
  });
});
