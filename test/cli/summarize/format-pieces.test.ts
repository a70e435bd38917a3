import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { goalFor } from '../../../src/summarize/direction.js';
import { Downsample, mergeSamples } from '../../../src/summarize/downsample.js';
import { formatNumber } from '../../../src/summarize/format-value.js';
import { ProgressLine } from '../../../src/summarize/progress.js';
import { sparkline } from '../../../src/summarize/sparkline.js';

describe('summarize building blocks', () => {
  it('guesses lower-is-better for losses and errors, higher for accuracies and rates, nothing for lr', () => {
    const none = new Map<string, 'min' | 'max'>();
    expect(
      ['train/loss', 'val_loss', 'eval/perplexity', 'wer', 'top1_error'].map((n) => goalFor(n, none)),
    ).toEqual(['min', 'min', 'min', 'min', 'min']);
    expect(['eval/accuracy', 'val_acc', 'f1', 'tokens_per_s', 'bleu'].map((n) => goalFor(n, none))).toEqual([
      'max',
      'max',
      'max',
      'max',
      'max',
    ]);
    expect(['lr', 'grad_norm'].map((n) => goalFor(n, none))).toEqual([undefined, undefined]);
  });

  it('keeps a bounded, evenly strided sample of a long series', () => {
    const d = new Downsample(8);
    for (let i = 0; i < 1000; i++) d.add(i, i * 2);
    const s = d.toJSON();
    expect(s.steps.length).toBeLessThanOrEqual(8);
    expect(s.stride).toBe(128);
    expect(s.steps).toEqual([0, 128, 256, 384, 512, 640, 768, 896]);
    expect(s.values).toEqual(s.steps.map((x) => x * 2));
  });

  it('merges samples of consecutive parts at the sparser stride', () => {
    const merged = mergeSamples(
      { steps: [0, 1, 2, 3], values: [0, 1, 2, 3], stride: 1 },
      { steps: [4, 6], values: [4, 6], stride: 2 },
      8,
    );
    expect(merged).toEqual({ steps: [0, 2, 4, 6], values: [0, 2, 4, 6], stride: 2 });
  });

  it('draws sparklines from finite values only, flat series at mid height', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([NaN, 1, 1, Infinity])).toBe('▄▄');
    expect(sparkline([NaN])).toBe('');
  });

  it('prints numbers with six significant digits and names non-finite values', () => {
    expect([0.123456789, 1e-7, 12345678901.5, 42, NaN, -Infinity].map(formatNumber)).toEqual([
      '0.123457',
      '1e-7',
      '1.2346e10',
      '42',
      'NaN',
      '-Inf',
    ]);
  });

  it('draws a progress line with bytes, rate and ETA, and clears it when done', () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const progress = new ProgressLine(stream);
    progress.update(50 * 1024 * 1024, 100 * 1024 * 1024);
    progress.done();
    expect(chunks[0]?.startsWith('\r\u001b[K50.0 MiB / 100.0 MiB ')).toBe(true);
    expect(chunks[0]).toMatch(/\/s {2}ETA /);
    expect(chunks[1]).toBe('\r\x1b[K');
  });
});
