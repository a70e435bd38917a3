/**
 * Bad input in TensorBoard and W&B runs: each gives one clear report naming the file and byte
 * offset, the rest of the run is still read, and nothing throws.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { frameRecord } from '../../src/formats/codec/tfrecord.js';
import { BLOCK_BYTES } from '../../src/formats/wandb/log-framing.js';
import { collectRun } from '../helpers/collect-run.js';
import { runSummarize } from '../cli/summarize/run-command.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const TB = path.join(FIXTURES, 'tensorboard');
const GOLDEN = 'events.out.tfevents.1700000000.golden';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-bad-input-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const pointCount = (points: Map<string, unknown[]>): number =>
  [...points.values()].reduce((sum, list) => sum + list.length, 0);

describe('TensorBoard event files', () => {
  it('reports a torn last record (file, byte offset) once the read is final, and keeps the 28 whole records before it', async () => {
    const whole = await collectRun('tfevents', path.join(TB, 'scalars', GOLDEN));
    const torn = await collectRun('tfevents', path.join(TB, 'corrupt_truncated_tail', GOLDEN));
    expect(torn.problems).toEqual([
      expect.objectContaining({
        file: path.join(TB, 'corrupt_truncated_tail', GOLDEN),
        offset: 1385,
        record: 29,
      }),
    ]);
    expect(torn.problems[0]?.reason).toMatch(/ends inside this record/);
    // The torn record is the Event with two values, multi/a and multi/b.
    expect(pointCount(torn.points)).toBe(pointCount(whole.points) - 2);
    expect(torn.points.has('multi/a')).toBe(false);
  });

  it('skips a record with a bad data CRC, names its offset, and reads every record after it', async () => {
    const whole = await collectRun('tfevents', path.join(TB, 'scalars', GOLDEN));
    const bad = await collectRun('tfevents', path.join(TB, 'corrupt_bad_data_crc', GOLDEN));
    expect(bad.problems).toHaveLength(1);
    expect(bad.problems[0]).toMatchObject({ offset: 124 });
    expect(bad.problems[0]?.reason).toMatch(/bad data CRC/);
    // Record 3 held one scalar; the 25 records after it are all read.
    expect(pointCount(bad.points)).toBe(pointCount(whole.points) - 1);
  });

  it('after a bad length CRC finds the next record whose header verifies and reads on from there', async () => {
    const whole = await collectRun('tfevents', path.join(TB, 'scalars', GOLDEN));
    const bad = await collectRun('tfevents', path.join(TB, 'corrupt_bad_length_crc', GOLDEN));
    expect(bad.problems).toHaveLength(1);
    expect(bad.problems[0]).toMatchObject({ offset: 124 });
    expect(bad.problems[0]?.reason).toMatch(/bad length CRC/);
    expect(pointCount(bad.points)).toBe(pointCount(whole.points) - 1);
  });

  it('reports a record that is not an Event by its offset and reads the records around it', async () => {
    const dir = path.join(tmp, 'not-an-event');
    fs.mkdirSync(dir);
    const good = fs.readFileSync(path.join(TB, 'scalars', GOLDEN));
    // Field 1 as a varint where Event wants a double: framed with sound CRCs, but no Event.
    const garbage = frameRecord(Buffer.from([0x08, 0x01, 0xff]));
    fs.writeFileSync(
      path.join(dir, GOLDEN),
      Buffer.concat([good.subarray(0, 124), garbage, good.subarray(124)]),
    );
    const whole = await collectRun('tfevents', path.join(TB, 'scalars', GOLDEN));
    const read = await collectRun('tfevents', dir);
    expect(read.problems).toEqual([expect.objectContaining({ offset: 124, record: 4 })]);
    expect(read.problems[0]?.reason).toMatch(/not a TensorFlow Event/);
    expect(pointCount(read.points)).toBe(pointCount(whole.points));
  });
});

describe('W&B offline runs', () => {
  const killed = path.join(FIXTURES, 'real-writers', 'runs', 'wandb');
  const killedLog = (): string => {
    const folder = fs.readdirSync(killed).find((name) => name.endsWith('-k1lled01')) as string;
    return path.join(killed, folder, 'run-k1lled01.wandb');
  };

  it('reports a corrupt chunk with file and byte offset, and reads on from the next 32 KiB block', async () => {
    const bytes = Buffer.from(fs.readFileSync(killedLog()));
    const damageAt = BLOCK_BYTES + 5000;
    bytes[damageAt] = (bytes[damageAt] as number) ^ 0xff;
    const dir = path.join(tmp, 'offline-run-20250101_000000-c0rrupt1');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'run-c0rrupt1.wandb'), bytes);
    const whole = await collectRun('wandb', killedLog());
    const read = await collectRun('wandb', dir);
    const [corrupt, torn] = read.problems;
    expect(corrupt?.file).toBe(path.join(dir, 'run-c0rrupt1.wandb'));
    expect(corrupt?.offset).toBeGreaterThan(BLOCK_BYTES);
    expect(corrupt?.offset).toBeLessThanOrEqual(damageAt);
    expect(corrupt?.reason).toMatch(/checksum mismatch.*next 32 KiB block/);
    expect(torn?.reason).toMatch(/ends inside this record/);
    const steps = (read.points.get('loss') ?? []).map((p) => Number(p.step));
    const all = (whole.points.get('loss') ?? []).map((p) => Number(p.step));
    // Rows before the damage and rows after its block are read; only the damaged block's are lost.
    expect(steps.length).toBeGreaterThan(all.length - 150);
    expect(steps.length).toBeLessThan(all.length);
    expect(steps[0]).toBe(all[0]);
    expect(steps.at(-1)).toBe(all.at(-1));
  });

  it('reports the golden bad-checksum and truncated logs by offset and keeps the records before the damage', async () => {
    const bad = await collectRun(
      'wandb',
      path.join(FIXTURES, 'wandb', 'corrupt', 'run-g0ld3nv1.bad-crc.wandb'),
    );
    expect(bad.problems.map((p) => p.reason)).toEqual([expect.stringMatching(/checksum mismatch/)]);
    expect(bad.reader.info.id).toBe('g0ld3nv1');
    const cut = await collectRun(
      'wandb',
      path.join(FIXTURES, 'wandb', 'corrupt', 'run-g0ld3nv1.truncated.wandb'),
    );
    expect(cut.problems.map((p) => p.reason)).toEqual([expect.stringMatching(/ends inside this record/)]);
    expect(pointCount(cut.points)).toBeGreaterThan(0);
    // The cut took the final record only: the exit record before it was read.
    expect(cut.reader.info).toMatchObject({ state: 'finished', exitCode: 0 });
  });

  it('says an offline-run folder holds no log, in one line; summarize then has no row and says so with exit 1', async () => {
    const empty = path.join(tmp, 'empty', 'offline-run-20250101_000000-empty001');
    fs.mkdirSync(empty, { recursive: true });
    const read = await collectRun('wandb', empty);
    expect(read.problems).toEqual([
      expect.objectContaining({ file: empty, reason: 'the run folder holds no run-*.wandb log' }),
    ]);
    const result = await runSummarize([path.join(tmp, 'empty'), '--no-progress']);
    // An input with no valid row at all is an error (the CLI convention), with the reason why.
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${empty}:0: byte offset 0: the run folder holds no run-*.wandb log`);
  });
});

describe('summarize on damaged runs', () => {
  it('prints one line per damage with file and byte offset, shows the rest, and fails only under --strict', async () => {
    const input = path.join(TB, 'corrupt_bad_data_crc');
    const lax = await runSummarize([input, '--no-progress']);
    expect(lax.code).toBe(0);
    expect(lax.stderr).toContain(`${path.join(input, GOLDEN)}:0: byte offset 124: bad data CRC`);
    expect(lax.stdout).toMatch(/train\/lr/);
    const strict = await runSummarize([input, '--no-progress', '--strict']);
    expect(strict.code).toBe(1);
  });
});
