/**
 * What the event-file reader takes for a scalar, and TensorBoard's restart rule, on the golden
 * vectors (written by tensorboardX, every record described in vectors.json) and on small cases.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scanRecords } from '../../src/formats/codec/tfrecord.js';
import { decodeEvent } from '../../src/formats/tensorboard/event-decoder.js';
import { NameTable } from '../../src/ndjson/line/name-table.js';
import { RestartPlan } from '../../src/sources/tfevents/restart-plan.js';
import { SimpleEventDecoder } from '../../src/sources/tfevents/simple-events.js';
import { tensorScalar } from '../../src/sources/tfevents/event-values.js';
import { collectRun } from '../helpers/collect-run.js';

const TB = fileURLToPath(new URL('../fixtures/tensorboard/', import.meta.url));

interface VectorValue {
  tag: string;
  kind: string;
  simple_value?: number | string;
  tensor?: { dtype: number; float_val?: number[]; double_val?: number[]; tensor_content_hex?: string };
}
interface VectorRecord {
  event?: { step_str: string; wall_time: number; summary?: VectorValue[] };
}

/** Every scalar vectors.json describes for one file, per tag, as [step, value, wall time]. */
function described(file: string): Map<string, Array<[string, number, number]>> {
  const vectors = JSON.parse(fs.readFileSync(path.join(TB, 'vectors.json'), 'utf8')) as {
    files: Array<{ file: string; records: VectorRecord[] }>;
  };
  const out = new Map<string, Array<[string, number, number]>>();
  for (const record of vectors.files.find((f) => f.file === file)?.records ?? []) {
    for (const value of record.event?.summary ?? []) {
      let number: number | undefined;
      if (value.kind === 'simple_value') number = Number(value.simple_value);
      else if (value.tensor?.float_val !== undefined) number = value.tensor.float_val[0];
      else if (value.tensor?.double_val !== undefined) number = value.tensor.double_val[0];
      else if (value.tensor?.tensor_content_hex !== undefined)
        number = Buffer.from(value.tensor.tensor_content_hex, 'hex').readFloatLE(0);
      if (number === undefined || (value.tensor !== undefined && value.tag.startsWith('notes'))) continue;
      const list = out.get(value.tag) ?? [];
      list.push([record.event?.step_str ?? '', number, record.event?.wall_time ?? NaN]);
      out.set(value.tag, list);
    }
  }
  return out;
}

const ours = (run: Awaited<ReturnType<typeof collectRun>>): Map<string, Array<[string, number, number]>> =>
  new Map([...run.points].map(([tag, points]) => [tag, points.map((p) => [String(p.step), p.value, p.ts])]));

describe('scalars of the golden event files', () => {
  it('reads every simple_value exactly, steps beyond 2^53 exactly, unicode and raw tags as written', async () => {
    const run = await collectRun('tfevents', path.join(TB, 'scalars'));
    expect(ours(run)).toEqual(described('scalars/events.out.tfevents.1700000000.golden'));
    expect(run.points.get('bigstep')?.map((p) => p.step)).toContain(2n ** 63n - 1n);
  });

  it('reads TF2 tensor scalars from float_val, tensor_content and double_val', async () => {
    const run = await collectRun('tfevents', path.join(TB, 'tensor_scalars'));
    expect(ours(run)).toEqual(described('tensor_scalars/events.out.tfevents.1700000100.golden'));
  });

  it('lists the histogram and the text as not shown, and draws the scalar beside them', async () => {
    const run = await collectRun('tfevents', path.join(TB, 'histogram_text'));
    expect(run.reader.info.notShown).toEqual(
      new Map([
        ['weights/layer1', 'histogram'],
        ['notes/text_summary', 'text'],
      ]),
    );
    expect([...run.points.keys()]).toEqual(['loss']);
  });
});

describe('tensor scalars', () => {
  const tensor = (dtype: number, fields: object): Parameters<typeof tensorScalar>[0] => ({
    dtype,
    shape: [],
    floatVal: [],
    doubleVal: [],
    stringVal: [],
    intVal: [],
    ...fields,
  });
  it('reads integer dtypes from int_val and tensor_content, uint64 beyond int64 unsigned', () => {
    expect(tensorScalar(tensor(9, { intVal: [2n ** 40n + 1n] }))).toBe(2 ** 40 + 1);
    expect(tensorScalar(tensor(3, { intVal: [-7] }))).toBe(-7);
    const content = Buffer.alloc(8);
    content.writeBigInt64LE(-5n);
    expect(tensorScalar(tensor(9, { tensorContent: content }))).toBe(-5);
    expect(tensorScalar(tensor(23, { intVal: [-1n] }))).toBe(2 ** 64);
    expect(tensorScalar(tensor(2, { tensorContent: Buffer.from(new Float64Array([1 / 3]).buffer) }))).toBe(
      1 / 3,
    );
  });
  it('takes no number from a tensor of several elements or a string tensor', () => {
    expect(tensorScalar({ ...tensor(1, { floatVal: [1, 2] }), shape: [2] })).toBeUndefined();
    expect(tensorScalar(tensor(7, { stringVal: ['x'] }))).toBeUndefined();
  });
});

describe("TensorBoard's restart rule", () => {
  const kept = (values: Array<[string, number]>): Array<[string, number]> => {
    // Two passes, as a reader does: the first notes the restarts, the second keeps what survives.
    const plan = new RestartPlan();
    values.forEach(([tag, step], i) => plan.offer(tag, i, step));
    plan.rewind();
    return values.filter(([tag, step], i) => plan.offer(tag, i, step));
  };
  it('drops the earlier values of a tag at or after the step it restarts from, and only of that tag', () => {
    expect(
      kept([
        ['loss', 0],
        ['acc', 0],
        ['loss', 1],
        ['loss', 2],
        ['acc', 2],
        ['loss', 1],
        ['loss', 2],
      ]),
    ).toEqual([
      ['loss', 0],
      ['acc', 0],
      ['acc', 2],
      ['loss', 1],
      ['loss', 2],
    ]);
  });
  it('takes a repeated step as a restart: the later value replaces the earlier', () => {
    expect(
      kept([
        ['loss', 5],
        ['loss', 5],
      ]).length,
    ).toBe(1);
  });
  it('applies restarts in sequence: a deeper later restart drops what an earlier one kept', () => {
    expect(
      kept([
        ['x', 0],
        ['x', 5],
        ['x', 10],
        ['x', 7],
        ['x', 8],
        ['x', 3],
        ['x', 4],
      ]).map(([, step]) => step),
    ).toEqual([0, 3, 4]);
  });
  it('notes each restart once, however often the run is read again', () => {
    const plan = new RestartPlan();
    const values = [5, 6, 2, 3];
    for (let pass = 0; pass < 3; pass++) {
      plan.rewind();
      values.forEach((step, i) => plan.offer('t', i, step));
    }
    expect(plan.takeAdded()).toBe(1);
  });
});

describe('the fast decoder for simple_value Events', () => {
  it('decodes exactly what the full decoder does for every Event it takes, and takes the common ones', () => {
    const decoder = new SimpleEventDecoder(new NameTable());
    let taken = 0;
    let left = 0;
    const roots = [TB, fileURLToPath(new URL('../fixtures/real-writers/runs/', import.meta.url))];
    for (const root of roots) {
      const files = fs
        .readdirSync(root, { recursive: true, encoding: 'utf8' })
        .filter(
          (file) => path.basename(file).startsWith('events.out.tfevents.') && !file.includes('corrupt'),
        );
      for (const file of files) {
        for (const { payload } of scanRecords(fs.readFileSync(path.join(root, file))).records) {
          const full = decodeEvent(payload);
          if (!decoder.decode(payload)) {
            left++;
            continue;
          }
          taken++;
          expect(decoder.wallTime).toBe(full.wallTime);
          expect(BigInt(decoder.step)).toBe(full.step);
          const values = Array.from({ length: decoder.count }, (_, i) => ({
            tag: decoder.tags.name(decoder.tagIds[i] as number),
            simpleValue: decoder.values[i],
          }));
          expect(values).toEqual(full.values);
        }
      }
    }
    expect(taken).toBeGreaterThan(100);
    // file_version Events, tensors, histograms, steps beyond 2^49.
    expect(left).toBeGreaterThan(10);
  });
});

describe('run folders named after a phase', () => {
  it('puts the scalars of a run folder named eval in the eval phase, and of one named system in the system phase', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-phase-folders-'));
    try {
      for (const phase of ['eval', 'system', 'train']) {
        fs.mkdirSync(path.join(root, phase));
        fs.copyFileSync(
          path.join(TB, 'histogram_text', 'events.out.tfevents.1700000200.golden'),
          path.join(root, phase, 'events.out.tfevents.1700000200.golden'),
        );
      }
      const keys = async (phase: string): Promise<string[]> => [
        ...(await collectRun('tfevents', path.join(root, phase))).points.keys(),
      ];
      expect(await keys('eval')).toEqual(['eval/loss']);
      expect(await keys('system')).toEqual(['system/loss']);
      expect(await keys('train')).toEqual(['loss']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
