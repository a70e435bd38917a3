/**
 * RowPipeline directly, with sinks that record every call: the one clock, commit, early dispatch
 * at the high-water mark, and a sink that breaks its never-throw contract.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { SinkHealth } from '../../src/health.js';
import type { Row } from '../../src/pipeline/row.js';
import { RowPipeline } from '../../src/pipeline/row-pipeline.js';
import type { RowSink, RunOutcome, StepTimeHistogram } from '../../src/pipeline/row-sink.js';
import { StepTimeAccumulator } from '../../src/pipeline/step-time-accumulator.js';

interface Recorder extends RowSink {
  readonly calls: string[];
  readonly rows: Row[][];
  readonly histograms: StepTimeHistogram[];
  readonly outcomes: RunOutcome[];
}

function recorder(name: string, failOn: Partial<Record<string, unknown>> = {}): Recorder {
  const calls: string[] = [];
  const rows: Row[][] = [];
  const histograms: StepTimeHistogram[] = [];
  const outcomes: RunOutcome[] = [];
  const maybeThrow = (what: string): void => {
    calls.push(what);
    if (what in failOn) throw failOn[what];
  };
  return {
    name,
    calls,
    rows,
    histograms,
    outcomes,
    write: (batch) => {
      maybeThrow('write');
      rows.push([...batch]);
    },
    writeStepTimes: (histogram) => {
      maybeThrow('writeStepTimes');
      histograms.push(histogram);
    },
    flush: async () => maybeThrow('flush'),
    flushSync: () => maybeThrow('flushSync'),
    close: async (outcome) => {
      maybeThrow('close');
      outcomes.push(outcome);
    },
    closeSync: (outcome) => {
      maybeThrow('closeSync');
      outcomes.push(outcome);
    },
  };
}

function row(step: number): Row {
  return {
    stream: 'train',
    phase: 'train',
    step,
    ts: 1_700_000_000 + step,
    names: ['loss'],
    values: [step / 2],
  };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const pipelines: RowPipeline[] = [];
function pipeline(options: Partial<ConstructorParameters<typeof RowPipeline>[0]> = {}): RowPipeline {
  const created = new RowPipeline({
    flushIntervalMs: 0,
    health: new SinkHealth(() => undefined),
    ...options,
  });
  pipelines.push(created);
  return created;
}
afterEach(() => {
  for (const created of pipelines.splice(0)) created.closeSync({ exitCode: 0 });
});

describe('RowPipeline options', () => {
  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses a flush interval of %s ms as a config error',
    (ms) => {
      expect(() => new RowPipeline({ flushIntervalMs: ms, health: new SinkHealth() })).toThrow(ConfigError);
      expect(() => new RowPipeline({ flushIntervalMs: ms, health: new SinkHealth() })).toThrow(
        /flushInterval/,
      );
    },
  );

  it('quotes the interval in seconds in the error', () => {
    expect(() => new RowPipeline({ flushIntervalMs: -250, health: new SinkHealth() })).toThrow(
      'config field "flushInterval" is -0.25;',
    );
  });

  it('runs no timer with interval 0, one with a positive interval, and none after close', async () => {
    expect(pipeline({ flushIntervalMs: 0 }).hasTimer).toBe(false);
    const timed = pipeline({ flushIntervalMs: 1000 });
    expect(timed.hasTimer).toBe(true);
    await timed.close({ exitCode: 0 });
    expect(timed.hasTimer).toBe(false);
    const timedSync = pipeline({ flushIntervalMs: 1000 });
    timedSync.closeSync({ exitCode: 0 });
    expect(timedSync.hasTimer).toBe(false);
  });
});

describe('RowPipeline rows', () => {
  it('registers each sink as up and keeps them in the order added', () => {
    const health = new SinkHealth(() => undefined);
    const rows = pipeline({ health });
    const a = recorder('a');
    const b = recorder('b');
    rows.add(a);
    rows.add(b);
    expect(rows.sinkList).toEqual([a, b]);
    expect(health.entries()).toEqual([
      ['a', true],
      ['b', true],
    ]);
  });

  it('queues pushed rows without writing them until a flush, then hands every sink the same batch', async () => {
    const rows = pipeline();
    const a = recorder('a');
    const b = recorder('b');
    rows.add(a);
    rows.add(b);
    expect(rows.push(row(1))).toBe(true);
    expect(rows.push(row(2))).toBe(true);
    expect(rows.pendingRows).toBe(2);
    await nextTurn();
    expect(a.calls).toEqual([]);
    await rows.flush();
    expect(rows.pendingRows).toBe(0);
    expect(a.rows).toEqual([[row(1), row(2)]]);
    expect(b.rows).toEqual([[row(1), row(2)]]);
    expect(a.calls).toEqual(['write', 'flush']);
    await rows.flush();
    // Nothing queued: no empty write, but the sinks still flush.
    expect(a.calls).toEqual(['write', 'flush', 'flush']);
  });

  it('commit writes and flushes on the next turn of the event loop, once for many commits', async () => {
    const rows = pipeline();
    const a = recorder('a');
    rows.add(a);
    rows.push(row(1));
    rows.commit();
    rows.commit();
    expect(a.calls).toEqual([]);
    await nextTurn();
    await nextTurn();
    expect(a.calls).toEqual(['write', 'flush']);
    rows.push(row(2));
    rows.commit();
    await nextTurn();
    await nextTurn();
    expect(a.calls).toEqual(['write', 'flush', 'write', 'flush']);
    expect(a.rows).toEqual([[row(1)], [row(2)]]);
  });

  it('flushes on its clock without a commit', async () => {
    const rows = pipeline({ flushIntervalMs: 10 });
    const a = recorder('a');
    rows.add(a);
    rows.push(row(1));
    for (let waited = 0; waited < 2000 && a.calls.length < 2; waited += 10) await sleep(10);
    expect(a.calls.slice(0, 2)).toEqual(['write', 'flush']);
  });

  it('dispatches at once, inside push, when the queue reaches the high-water mark, without flushing', () => {
    const rows = pipeline({ highWaterRows: 3 });
    const a = recorder('a');
    rows.add(a);
    rows.push(row(1));
    rows.push(row(2));
    expect(a.calls).toEqual([]);
    // No turn of the event loop: a training loop that never yields still gets its rows written.
    rows.push(row(3));
    expect(a.rows).toEqual([[row(1), row(2), row(3)]]);
    expect(a.calls).toEqual(['write']);
    expect(rows.pendingRows).toBe(0);
    // The mark works again after an early dispatch.
    for (let step = 4; step <= 6; step++) rows.push(row(step));
    expect(a.rows).toHaveLength(2);
    expect(a.calls).toEqual(['write', 'write']);
  });

  it('dispatches early at 1024 queued rows by default, not before', () => {
    const rows = pipeline();
    const a = recorder('a');
    rows.add(a);
    for (let step = 0; step < 1023; step++) rows.push(row(step));
    expect(a.calls).toEqual([]);
    rows.push(row(1023));
    expect(a.rows.map((batch) => batch.length)).toEqual([1024]);
  });

  it('hands the step-time histogram to sinks that take one, with the rows, and skips sinks that do not', async () => {
    const stepTimes = new StepTimeAccumulator([0.5]);
    const rows = pipeline({ stepTimes });
    const a = recorder('a');
    const { writeStepTimes: _ignored, ...withoutHistogram } = recorder('plain');
    const plain: RowSink = withoutHistogram;
    rows.add(a);
    rows.add(plain);
    rows.push(row(1));
    rows.recordStepTime(0.25, 1, 1_700_000_001);
    rows.recordStepTime(2, 2, 1_700_000_002);
    await rows.flush();
    expect(a.calls).toEqual(['write', 'writeStepTimes', 'flush']);
    expect(a.histograms).toEqual([
      {
        buckets: { boundaries: [0.5], counts: [1, 1] },
        count: 2,
        sum: 2.25,
        min: 0.25,
        max: 2,
        step: 2,
        ts: 1_700_000_002,
      },
    ]);
    expect(rows.sinkList.map((sink) => sink.name)).toEqual(['a', 'plain']);
    // A step time alone (no rows) reaches the sink without an empty write.
    rows.recordStepTime(1, 3, 1_700_000_003);
    await rows.flush();
    expect(a.calls).toEqual(['write', 'writeStepTimes', 'flush', 'writeStepTimes', 'flush']);
  });

  it('ignores step times when no accumulator was given', async () => {
    const rows = pipeline();
    const a = recorder('a');
    rows.add(a);
    rows.recordStepTime(1, 1, 1);
    await rows.flush();
    expect(a.calls).toEqual(['flush']);
  });
});

describe('RowPipeline close', () => {
  it('writes what is queued, closes every sink once with the outcome, and refuses rows afterwards', async () => {
    const rows = pipeline({ flushIntervalMs: 10 });
    const a = recorder('a');
    rows.add(a);
    rows.push(row(1));
    const closing = rows.close({ exitCode: 130 });
    expect(rows.close({ exitCode: 0 })).toBe(closing);
    await closing;
    expect(a.calls).toEqual(['write', 'close']);
    expect(a.outcomes).toEqual([{ exitCode: 130 }]);
    expect(rows.push(row(2))).toBe(false);
    expect(rows.pendingRows).toBe(0);
    rows.commit();
    await sleep(30);
    expect(a.calls).toEqual(['write', 'close']);
  });

  it('closes synchronously for the exit path, writing what is queued first', () => {
    const rows = pipeline();
    const a = recorder('a');
    rows.add(a);
    rows.push(row(1));
    rows.closeSync({ exitCode: 1 });
    expect(a.calls).toEqual(['write', 'closeSync']);
    expect(a.outcomes).toEqual([{ exitCode: 1 }]);
    expect(rows.push(row(2))).toBe(false);
  });

  it('flushes synchronously, writing what is queued first', () => {
    const rows = pipeline();
    const a = recorder('a');
    rows.add(a);
    rows.push(row(1));
    rows.flushSync();
    expect(a.calls).toEqual(['write', 'flushSync']);
    expect(rows.push(row(2))).toBe(true);
  });
});

describe('a sink that throws', () => {
  it('on write is marked down once with the error code and message, and the others keep their rows', async () => {
    const warnings: string[] = [];
    const health = new SinkHealth((message) => warnings.push(message));
    const rows = pipeline({ health });
    const broken = recorder('broken', {
      write: Object.assign(new Error('no space left'), { code: 'ENOSPC' }),
    });
    const good = recorder('good');
    rows.add(broken);
    rows.add(good);
    rows.push(row(1));
    await rows.flush();
    rows.push(row(2));
    await rows.flush();
    expect(health.isUp('broken')).toBe(false);
    expect(health.reason('broken')).toBe('write failed (ENOSPC: no space left)');
    expect(warnings).toHaveLength(1);
    // Down sinks get no more rows, but still flush and close (they ignore it).
    expect(broken.calls).toEqual(['write', 'flush', 'flush']);
    expect(good.rows).toEqual([[row(1)], [row(2)]]);
    expect(health.isUp('good')).toBe(true);
  });

  it('does not repeat an error code the message already starts with', async () => {
    const health = new SinkHealth(() => undefined);
    const rows = pipeline({ health });
    rows.add(recorder('a', { flush: Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }) }));
    await rows.flush();
    expect(health.reason('a')).toBe('flush failed (EIO: i/o error, write)');
  });

  it('reports an error without a code by its message, and a thrown non-error as text', async () => {
    const health = new SinkHealth(() => undefined);
    const rows = pipeline({ health });
    rows.add(recorder('a', { close: new Error('bad state') }));
    rows.add(recorder('b', { close: 'just a string' }));
    await rows.close({ exitCode: 0 });
    expect(health.reason('a')).toBe('close failed (bad state)');
    expect(health.reason('b')).toBe('close failed (just a string)');
  });

  it('on the synchronous paths is marked down with the step that failed', () => {
    const health = new SinkHealth(() => undefined);
    const rows = pipeline({ health });
    rows.add(recorder('f', { flushSync: new Error('sync flush') }));
    rows.add(recorder('c', { closeSync: new Error('sync close') }));
    rows.flushSync();
    rows.closeSync({ exitCode: 0 });
    expect(health.reason('f')).toBe('flush failed (sync flush)');
    expect(health.reason('c')).toBe('close failed (sync close)');
  });

  it('in writeStepTimes is marked down like a failed write', async () => {
    const health = new SinkHealth(() => undefined);
    const stepTimes = new StepTimeAccumulator([]);
    const rows = pipeline({ health, stepTimes });
    rows.add(recorder('a', { writeStepTimes: new Error('histogram') }));
    rows.recordStepTime(1, 1, 1);
    await rows.flush();
    expect(health.reason('a')).toBe('write failed (histogram)');
  });

  it('whose flush rejects never makes commit reject: it is marked down', async () => {
    const health = new SinkHealth(() => undefined);
    const rows = pipeline({ health });
    rows.add(recorder('a', { flush: new Error('late') }));
    rows.push(row(1));
    rows.commit();
    await nextTurn();
    await nextTurn();
    expect(health.reason('a')).toBe('flush failed (late)');
  });
});

describe('an outcome decided at close', () => {
  it('a sink that records the outcome closed beside the others, so an outcome that depends on their close came too early: it now closes last, with the outcome asked after they closed', async () => {
    const health = new SinkHealth(() => undefined);
    const pipeline = new RowPipeline({ flushIntervalMs: 0, health });
    const ndjson = recorder('ndjson', { close: new Error('ENOSPC') });
    const wandb = { ...recorder('wandb'), recordsOutcome: true };
    pipeline.add(wandb);
    pipeline.add(ndjson);
    const order: string[] = [];
    const close = ndjson.close;
    ndjson.close = (outcome) => {
      order.push('ndjson');
      return close(outcome);
    };
    await pipeline.close(() => {
      order.push('asked');
      return { exitCode: health.isUp('ndjson') ? 0 : 1 };
    });
    expect(order).toEqual(['asked', 'ndjson', 'asked']);
    expect(wandb.outcomes).toEqual([{ exitCode: 1 }]);
  });
});
