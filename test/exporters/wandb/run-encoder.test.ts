import { describe, expect, it } from 'vitest';
import { WANDB_FILE_HEADER } from '../../../src/formats/wandb/log-framing.js';
import type { KeyedItem } from '../../../src/formats/wandb/record-types.js';
import { WandbRunEncoder, type RunRow } from '../../../src/exporters/wandb/run-encoder.js';
import { hostFacts, trainerProgram, type HostFacts } from '../../../src/exporters/wandb/side-files.js';
import { readWandbLog, type ReadRecord } from '../../../src/exporters/wandb/wandb-log-reader.js';

const START = 1_735_689_600;
const FACTS: HostFacts = {
  os: 'Linux-6.1-x86_64',
  host: 'test-host',
  pid: 77,
  program: 'train.py',
  codePathLocal: 'train.py',
  args: ['run', '--', 'python', 'train.py'],
  root: '/work/project',
  executable: '/usr/bin/node',
  cpuCount: 8,
  cpuCountLogical: 16,
  memoryTotal: 64e9,
  disk: { total: 1e12, used: 4e11 },
};

function encoder(): WandbRunEncoder {
  return new WandbRunEncoder({
    runId: 'abc12345',
    project: 'proj',
    startTime: START,
    facts: FACTS,
    files: [{ path: 'wandb-metadata.json', policy: 'NOW', type: 'WANDB' }],
  });
}

const train = (step: number, loss: number): RunRow => ({
  phase: 'train',
  step,
  ts: START + step + 0.5,
  names: ['loss'],
  values: [loss],
});

function records(chunks: Buffer[]): ReadRecord[] {
  return readWandbLog(Buffer.concat([Buffer.from(WANDB_FILE_HEADER), ...chunks])).records;
}

const items = (list: KeyedItem[] | undefined): Record<string, string> =>
  Object.fromEntries((list ?? []).map((item) => [item.key ?? '', item.value_json ?? '']));

describe('WandbRunEncoder', () => {
  it('opens with header, run, environment and a files record listing the side files', () => {
    const log = records([encoder().begin()]);
    expect(log.map((record) => record.type)).toEqual(['header', 'run', 'environment', 'files']);
    // NOW is the enum's zero value, which protobuf leaves off the wire.
    expect(log[3]?.record.files).toEqual({ files: [{ path: 'wandb-metadata.json', type: 'WANDB' }] });
  });

  it('fills the environment record the way the SDK does: cores, disk, program and its local code path', () => {
    const environment = records([encoder().begin()])[2]?.record.environment;
    expect(environment).toMatchObject({
      program: 'train.py',
      code_path_local: 'train.py',
      cpu_count: 8,
      cpu_count_logical: 16,
      cpu: { count: 8, count_logical: 16 },
      disk: [{ key: '/', value: { total: '1000000000000', used: '400000000000' } }],
      writer_id: 'test-host-77',
    });
  });

  it('follows every batch of history with a summary of the changed keys, so a crash keeps the summary of the last row', () => {
    const run = encoder();
    const chunks = [run.begin()];
    run.write([train(0, 2.5), train(1, 2.25)]);
    chunks.push(run.take());
    run.write([train(2, 2)]);
    run.release();
    chunks.push(run.take());
    const log = records(chunks);
    // Step 1 waits for step 2 (it could still gain an eval row); the release writes step 2.
    expect(log.slice(4).map((record) => record.type)).toEqual([
      'history',
      'summary',
      'history',
      'history',
      'summary',
    ]);
    const summary = items(log.at(-1)?.record.summary?.update);
    const lastRow = items(log.at(-2)?.record.history?.item);
    for (const [key, value] of Object.entries(lastRow)) expect(summary[key], key).toBe(value);
    expect(summary._wandb).toBe('{"runtime":2}');
  });

  it('writes no summary record when no value changed since the last one', () => {
    const run = encoder();
    const chunks = [run.begin()];
    run.write([train(0, 2.5)]);
    run.release();
    chunks.push(run.take(), run.take());
    expect(records(chunks).filter((record) => record.type === 'summary')).toHaveLength(1);
  });

  it('ends with a full summary carrying the runtime, the late files, exit and final', () => {
    const run = encoder();
    const chunks = [run.begin()];
    run.write([train(0, 2.5), train(1, 2)]);
    chunks.push(run.end(3, 12, [{ path: 'output.log', policy: 'END', type: 'WANDB' }]));
    chunks.push(run.end(3, 12, []));
    const log = records(chunks);
    expect(log.slice(4).map((record) => record.type)).toEqual([
      'history',
      'history',
      'summary',
      'files',
      'exit',
      'final',
    ]);
    expect(items(log[6]?.record.summary?.update)).toMatchObject({
      loss: '2',
      _step: '1',
      _wandb: '{"runtime":12}',
    });
    expect(log[8]?.record.exit).toEqual({ exit_code: 3, runtime: 12 });
    expect(run.summaryObject(12)).toMatchObject({ loss: 2, _step: 1, _wandb: { runtime: 12 } });
  });
});

describe('host facts for the W&B environment record', () => {
  it('names the trainer a `run` command watches, not the Node script', () => {
    expect(trainerProgram(['run', '--capture-output', '--', 'python3', '-u', 'train.py', '--lr', '1'])).toBe(
      'train.py',
    );
    expect(trainerProgram(['run', '--', 'python', '-m', 'trainer.main'])).toBe('trainer.main');
    expect(trainerProgram(['run', '--', './train.sh'])).toBe('./train.sh');
    expect(trainerProgram(['demo', '--steps', '10'])).toBeUndefined();
  });

  it('reads physical cores, the root disk and a code path under the working directory', () => {
    const facts = hostFacts('h', [process.execPath, 'cli.js', 'run', '--', 'node', 'scripts/train.mjs']);
    expect(facts.program).toBe('scripts/train.mjs');
    expect(facts.codePathLocal).toBe('scripts/train.mjs');
    expect(facts.cpuCount).toBeGreaterThan(0);
    expect(facts.cpuCount).toBeLessThanOrEqual(facts.cpuCountLogical);
    expect(facts.disk?.total).toBeGreaterThan(facts.disk?.used ?? Infinity);
  });
});
