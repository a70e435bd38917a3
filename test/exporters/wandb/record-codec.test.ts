/**
 * The schema-driven Record codec against bytes written out by hand from protobuf's wire rules
 * (key = field << 3 | wire type, varints of 7-bit groups, proto3 defaults omitted).
 */
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from '../../../src/formats/wandb/record-codec.js';
import type { WandbRecord } from '../../../src/formats/wandb/record-types.js';

const hex = (record: unknown): string => encodeRecord(record as WandbRecord).toString('hex');
const bytes = (text: string): Uint8Array => Buffer.from(text.replace(/ /g, ''), 'hex');

describe('W&B Record encoding', () => {
  it('writes a present empty sub-message, and omits proto3 defaults inside one', () => {
    // exit = field 18, length-delimited: key 0x92 0x01.
    expect(hex({ exit: {} })).toBe('920100');
    expect(hex({ exit: { exit_code: 0, runtime: 3, not_complete: false } })).toBe('9201021003');
    expect(hex({ num: 0, uuid: '' })).toBe('');
  });

  it('writes int64 and int32 fields as varints, negative ones in ten bytes', () => {
    expect(hex({ num: 5 })).toBe('0805');
    expect(hex({ num: '9223372036854775807' })).toBe('08ffffffffffffffff7f');
    expect(hex({ num: 2n ** 62n })).toBe('08808080808080808040');
    expect(hex({ exit: { exit_code: -1 } })).toBe('92010b08ffffffffffffffffff01');
    expect(hex({ exit: { exit_code: '-2' } })).toBe('92010b08feffffffffffffffff01');
  });

  it('omits a zero int64 however it is given: number, bigint or decimal string', () => {
    expect(hex({ num: 0n })).toBe('');
    expect(hex({ num: '0' })).toBe('');
    expect(hex({ exit: { exit_code: '0' } })).toBe('920100');
  });

  it('writes every element of a repeated field, defaults included', () => {
    // run = field 17 (0x8a 0x01), tags = field 10 (0x52).
    expect(hex({ run: { tags: ['', 'a'] } })).toBe('8a0105' + '5200' + '520161');
    expect(hex({ run: { run_id: '', resumed: false } })).toBe('8a0100');
    // resumed = field 18 varint: key 0x90 0x01.
    expect(hex({ run: { resumed: true } })).toBe('8a0103900101');
  });

  it('writes enums by index, omitting the first value outside repeated fields', () => {
    // files = field 6; files.files = repeated field 1 {path 1, policy 2, type 3}.
    expect(hex({ files: { files: [{ path: 'a', policy: 'NOW', type: 'WANDB' }] } })).toBe('3207' + '0a05' + '0a0161' + '1801');
    expect(hex({ files: { files: [{ policy: 'LIVE' }] } })).toBe('3204' + '0a02' + '1002');
  });

  it('writes timestamps as seconds and nanos, leaving out zeros', () => {
    // output = field 4, timestamp = field 2 {seconds 1, nanos 2}.
    expect(hex({ output: { timestamp: '1970-01-01T00:00:01.500Z' } })).toBe('220a' + '1208' + '0801' + '1080cab5ee01');
    expect(hex({ output: { timestamp: '1970-01-01T00:00:00Z' } })).toBe('2202' + '1200');
    expect(hex({ output: { timestamp: '1970-01-01T00:00:00.000000001Z' } })).toBe('2204' + '1202' + '1001');
  });

  it.each([
    [{ bogus: 1 }, 'Record.bogus is not a field this encoder knows'],
    [{ run: { tags: 'a' } }, 'Record.run.tags must be an array'],
    [{ run: 'x' }, 'Record.run must be an object'],
    [{ run: null }, 'Record.run must be an object'],
    [{ files: { files: [{ policy: 'SOON' }] } }, 'Record.files.files.policy is SOON; expected one of NOW, END, LIVE'],
    [{ output: { timestamp: 5 } }, 'Record.output.timestamp must be an RFC 3339 string'],
    [{ uuid: 5 }, 'Record.uuid must be a string'],
    [{ run: { resumed: 1 } }, 'Record.run.resumed must be a boolean'],
    [{ num: 1.5 }, 'Record.num (int64) must be an integer, got 1.5'],
    [{ num: 2 ** 53 }, `Record.num (int64) must be an integer, got ${2 ** 53}`],
    [{ num: '1.5' }, 'Record.num (int64) must be an integer, got 1.5'],
    [{ num: ' 1' }, 'Record.num (int64) must be an integer, got  1'],
  ])('refuses %o, naming the field', (record, message) => {
    expect(() => encodeRecord(record as WandbRecord)).toThrow(new TypeError(message));
  });

  it('ignores fields set to undefined', () => {
    expect(hex({ num: 1, bogus: undefined, uuid: undefined })).toBe('0801');
  });
});

describe('W&B Record decoding', () => {
  it('reads scalars, repeated fields, enums and timestamps in their canonical JSON form', () => {
    expect(decodeRecord(bytes('08ffffffffffffffff7f 220a 1208 0801 1080cab5ee01'))).toEqual({
      num: '9223372036854775807',
      output: { timestamp: '1970-01-01T00:00:01.500Z' },
    });
    expect(decodeRecord(bytes('8a0108 5200 520161 900101'))).toEqual({ run: { tags: ['', 'a'], resumed: true } });
    expect(decodeRecord(bytes('8a0103 900100'))).toEqual({ run: { resumed: false } });
    expect(decodeRecord(bytes('3209 0a07 0a0161 1002 1801'))).toEqual({
      files: { files: [{ path: 'a', policy: 'LIVE', type: 'WANDB' }] },
    });
    expect(decodeRecord(bytes('92010b08ffffffffffffffffff01'))).toEqual({ exit: { exit_code: -1 } });
    expect(decodeRecord(bytes('2202 1200'))).toEqual({ output: { timestamp: '1970-01-01T00:00:00Z' } });
  });

  it('reads negative int64 fields as signed decimal strings, down to -2^63', () => {
    expect(decodeRecord(bytes('08ffffffffffffffffff01'))).toEqual({ num: '-1' });
    expect(decodeRecord(bytes('0880808080808080808001'))).toEqual({ num: '-9223372036854775808' });
    // history = field 2, step = field 2 {num = 1}.
    expect(decodeRecord(bytes('120d 120b 08feffffffffffffffff01'))).toEqual({ history: { step: { num: '-2' } } });
  });

  it('keeps an enum index it does not know as the number', () => {
    expect(decodeRecord(bytes('3204 0a02 1009'))).toEqual({ files: { files: [{ policy: 9 }] } });
  });

  it('reads uint32 and uint64 as unsigned', () => {
    // environment = field 26 (0xd2 0x01); cpu_count = field 16 varint (0x80 0x01); disk.value.total uint64.
    expect(decodeRecord(bytes('d20107 8001ffffffff0f'))).toEqual({ environment: { cpu_count: 4294967295 } });
    expect(decodeRecord(bytes('d20113 a20110 0a0161 120b 08ffffffffffffffffff01'))).toEqual({
      environment: { disk: [{ key: 'a', value: { total: '18446744073709551615' } }] },
    });
  });

  it('skips fields it does not model, at any depth', () => {
    // field 99 varint, field 98 length-delimited, then num.
    expect(decodeRecord(bytes('98060a 9206020000 0807'))).toEqual({ num: '7' });
    expect(decodeRecord(bytes('920102 3801'))).toEqual({ exit: {} });
  });

  it('refuses a known field with the wrong wire type, naming it', () => {
    expect(() => decodeRecord(bytes('0a00'))).toThrow('Record.num has wire type 2, expected 0');
    expect(() => decodeRecord(bytes('980100'))).toThrow(
      'Record.uuid has wire type 0, expected 2',
    );
    expect(() => decodeRecord(bytes('920102 0a00'))).toThrow('Record.exit.exit_code has wire type 2, expected 0');
  });
});
