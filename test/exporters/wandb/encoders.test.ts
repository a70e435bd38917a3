import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HistoryEncoder } from '../../../src/formats/wandb/history-encoder.js';
import { WandbLogEncoder } from '../../../src/formats/wandb/log-framing.js';
import { scanWandbLog } from '../../../src/formats/wandb/log-scan.js';
import { decodeRecord, encodeRecord } from '../../../src/formats/wandb/record-codec.js';
import { wandbStatsKey } from '../../../src/exporters/wandb/stats-keys.js';
import { numberJson } from '../../../src/formats/wandb/value-json.js';

const VECTORS = fileURLToPath(new URL('../../fixtures/wandb/vectors.json', import.meta.url));

describe('HistoryEncoder', () => {
  it('writes the same bytes as the schema-driven Record encoder, for any keys, values and int64 step', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.oneof(fc.constant(0), fc.nat(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
        fc.array(fc.tuple(fc.string({ minLength: 1, unit: 'binary' }), fc.double()), { maxLength: 20 }),
        fc.nat({ max: 40_000 }),
        (num, step, pairs, offset) => {
          const keys = pairs.map(([key]) => key);
          const values = pairs.map(([, value]) => numberJson(value));
          const start = 7 + offset;
          const fast = new HistoryEncoder().encode(new WandbLogEncoder(start), num, step, keys, values);
          const expected = encodeRecord({
            num,
            history: {
              item: keys.map((key, i) => ({ key, value_json: values[i] })),
              step: step === 0 || step === 0n ? {} : { num: step },
            },
          });
          expect(fast.equals(new WandbLogEncoder(start).encode(expected))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes int64 steps as protobuf varints: zero (number or bigint) left out, negatives in ten bytes', () => {
    // Record{num=1 (08 01), history=2 (12 len){item=1 (0a 07){key "a" (0a 01 61), value_json=16
    // "1" (82 01 01 31)}, step=2 (12 len){num=1 (08 varint)}}}, written out by hand.
    const item = '0a070a016182010131';
    const cases: Array<[number | bigint, string]> = [
      [0, '0801120b' + item + '1200'],
      [0n, '0801120b' + item + '1200'],
      [-1, '08011216' + item + '120b08' + 'ffffffffffffffffff01'],
      [-(2n ** 63n), '08011216' + item + '120b08' + '80808080808080808001'],
      [2n ** 63n - 1n, '08011215' + item + '120a08' + 'ffffffffffffffff7f'],
      [2n ** 53n, '08011214' + item + '120908' + '8080808080808010'],
      [2n ** 53n + 1n, '08011214' + item + '120908' + '8180808080808010'],
    ];
    for (const [step, hex] of cases) {
      const framed = new HistoryEncoder().encode(new WandbLogEncoder(), 1, step, ['a'], ['1']);
      // One FULL chunk: the payload follows the 7-byte chunk header.
      expect(framed.subarray(7).toString('hex'), `step ${step}`).toBe(hex);
    }
  });

  it('round-trips a row through the reader with keys and values intact', () => {
    const framed = new HistoryEncoder().encode(
      new WandbLogEncoder(),
      5,
      12,
      ['loss', 'train/acc'],
      ['0.5', 'NaN'],
    );
    const [scanned] = scanWandbLog(Buffer.concat([WandbLogEncoder.header(), framed])).records;
    expect(decodeRecord(scanned!.payload)).toEqual({
      num: '5',
      history: {
        item: [
          { key: 'loss', value_json: '0.5' },
          { key: 'train/acc', value_json: 'NaN' },
        ],
        step: { num: '12' },
      },
    });
  });
});

describe('stats key mapping', () => {
  it("maps our system keys onto every key of the golden StatsRecord, in W&B's units", () => {
    const ours: Array<[string, number]> = [
      ['proc_cpu_percent', 12.5],
      ['ram_percent', 41.2],
      ['proc_rss_bytes', 512.25 * 2 ** 20],
      ['ram_available_bytes', 8192 * 2 ** 20],
      ['proc_mem_percent', 3.1],
      ['proc_threads', 17],
      ['net_sent_bytes', 10240],
      ['net_recv_bytes', 20480],
      ['disk_percent', 55.5],
      ['disk_used_bytes', 100.25 * 2 ** 30],
      ['disk_nvme0n1_read_bytes', 1.5 * 2 ** 20],
      ['disk_nvme0n1_write_bytes', 2.5 * 2 ** 20],
      ['gpu_0_util_percent', 87],
      ['gpu_0_mem_util_percent', 40],
      ['gpu_0_mem_percent', 25.5],
      ['gpu_0_mem_used_bytes', 36507222016],
      ['gpu_0_temp_c', 61],
      ['gpu_0_power_w', 350.125],
      ['gpu_0_power_limit_w', 700],
      ['gpu_0_power_percent', 50.0178571],
      ['gpu_0_sm_clock_mhz', 1980],
      ['gpu_0_mem_clock_mhz', 2619],
      ['gpu_0_graphics_clock_mhz', 1980],
    ];
    const vectors = JSON.parse(fs.readFileSync(VECTORS, 'utf8')) as {
      vectors: Record<
        string,
        {
          records: Array<{
            type: string;
            record: { stats?: { item: Array<{ key: string; value_json: string }> } };
          }>;
        }
      >;
    };
    const golden = vectors.vectors['offline-run-20250101_000000-g0ld3nv1']!.records.find(
      (r) => r.type === 'stats',
    )!;
    const mapped = ours.map(([name, value]) => {
      const { key, scale } = wandbStatsKey(name);
      return [key, value * scale];
    });
    expect(mapped).toEqual(golden.record.stats!.item.map((item) => [item.key, Number(item.value_json)]));
  });

  it('maps fan, ECC and unknown keys, keeping unknown keys unchanged', () => {
    expect(wandbStatsKey('gpu_3_fan_percent').key).toBe('gpu.3.fanSpeed');
    expect(wandbStatsKey('gpu_1_ecc_corrected').key).toBe('gpu.1.correctedMemoryErrors');
    expect(wandbStatsKey('gpu_1_ecc_uncorrected').key).toBe('gpu.1.uncorrectedMemoryErrors');
    expect(wandbStatsKey('gpu_0_mem_total_bytes')).toEqual({ key: 'gpu_0_mem_total_bytes', scale: 1 });
    expect(wandbStatsKey('load1')).toEqual({ key: 'load1', scale: 1 });
  });
});
