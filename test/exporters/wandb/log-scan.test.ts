/**
 * The W&B log scanner on hand-built files: chunks framed here from the format's definition
 * (CRC-32 from the bitwise reference over `[type] ++ data`), each kind of damage placed on purpose.
 */
import { describe, expect, it } from 'vitest';
import { scanWandbLog } from '../../../src/formats/wandb/log-scan.js';
import { referenceCrc32 } from '../../helpers/reference-framing.js';

const HEADER = [0x3a, 0x57, 0x26, 0x42, 0xe1, 0xbe, 0x00];
const BLOCK = 32 * 1024;
const [FULL, FIRST, MIDDLE, LAST] = [1, 2, 3, 4];

function chunk(type: number, data: Uint8Array, crcOverride?: number): Buffer {
  const out = Buffer.alloc(7 + data.length);
  out.writeUInt32LE(crcOverride ?? referenceCrc32(Uint8Array.from([type, ...data])), 0);
  out.writeUInt16LE(data.length, 4);
  out[6] = type;
  out.set(data, 7);
  return out;
}
const bytes = (length: number, seed = 1): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);
const file = (...parts: Uint8Array[]): Buffer => Buffer.concat([Buffer.from(HEADER), ...parts]);

describe('scanWandbLog', () => {
  it('reads an empty log and FULL records with their offsets and payloads', () => {
    expect(scanWandbLog(file())).toEqual({ records: [] });
    const a = bytes(5);
    const b = bytes(0);
    const scan = scanWandbLog(file(chunk(FULL, a), chunk(FULL, b)));
    expect(scan.damage).toBeUndefined();
    expect(scan.records.map(({ start, end, payload }) => ({ start, end, payload: [...payload] }))).toEqual([
      { start: 7, end: 19, payload: [...a] },
      { start: 19, end: 26, payload: [] },
    ]);
  });

  it('joins a FIRST, MIDDLE and LAST chunk across blocks, after zero padding', () => {
    // The first record ends 3 bytes before the block end: those are padding.
    const filler = bytes(BLOCK - 7 - 7 - 3);
    const first = bytes(BLOCK - 7, 2);
    const middle = bytes(BLOCK - 7, 3);
    const last = bytes(10, 4);
    const log = file(chunk(FULL, filler), Buffer.alloc(3), chunk(FIRST, first), chunk(MIDDLE, middle), chunk(LAST, last));
    const scan = scanWandbLog(log);
    expect(scan.damage).toBeUndefined();
    expect(scan.records).toHaveLength(2);
    expect(scan.records[1]?.start).toBe(BLOCK - 3);
    expect(scan.records[1]?.end).toBe(log.length);
    expect(Buffer.from(scan.records[1]!.payload).equals(Buffer.concat([first, middle, last]))).toBe(true);
  });

  it('ends cleanly when the file stops exactly at the end of block padding', () => {
    const filler = bytes(BLOCK - 7 - 7 - 3);
    expect(scanWandbLog(file(chunk(FULL, filler), Buffer.alloc(3)))).toMatchObject({ records: [{ start: 7 }] });
    expect(scanWandbLog(file(chunk(FULL, filler), Buffer.alloc(3))).damage).toBeUndefined();
    expect(scanWandbLog(file(chunk(FULL, filler), Buffer.alloc(2))).damage).toEqual({
      kind: 'truncated',
      offset: BLOCK - 3,
      message: 'file ends inside block trailer padding',
    });
    expect(scanWandbLog(file(chunk(FULL, filler), Buffer.from([0, 0, 9]))).damage).toEqual({
      kind: 'corrupt',
      offset: BLOCK - 1,
      message: 'non-zero byte in block trailer padding',
    });
  });

  it.each([
    ['a file shorter than the header', Buffer.from(HEADER.slice(0, 6)), 'truncated', 0, 'file is 6 bytes, shorter than the 7-byte W&B header'],
    ['a wrong header byte', Buffer.from([...HEADER.slice(0, 4), 0xe2, ...HEADER.slice(5)]), 'corrupt', 4, 'not a W&B log: bad file header (expected ":W&B" 0xBEE1 version 0)'],
    ['a cut chunk header', file(chunk(FULL, bytes(3)), Buffer.from([1, 2, 3, 4, 5, 6])), 'truncated', 17, 'file ends inside the chunk header at byte offset 17'],
    ['a cut chunk', file(chunk(FULL, bytes(30)).subarray(0, 20)), 'truncated', 7, 'file ends inside the chunk at byte offset 7'],
    ['chunk type 0', file(chunk(0, bytes(3))), 'corrupt', 7, 'chunk has unknown type 0'],
    ['chunk type 5', file(chunk(FULL, bytes(1)), chunk(5, bytes(3))), 'corrupt', 15, 'chunk has unknown type 5'],
    ['a bad checksum', file(chunk(FULL, bytes(2)), chunk(FULL, bytes(3), 0x12345678)), 'corrupt', 16, 'chunk checksum mismatch (record 2)'],
    ['a record starting with LAST', file(chunk(LAST, bytes(3))), 'corrupt', 7, 'record starts with a LAST chunk'],
    ['a record starting with MIDDLE', file(chunk(MIDDLE, bytes(3))), 'corrupt', 7, 'record starts with a MIDDLE chunk'],
    ['a FIRST that does not fill its block', file(chunk(FIRST, bytes(3)), chunk(LAST, bytes(3))), 'corrupt', 17, 'FIRST chunk does not fill its block'],
    ['a file ending after a FIRST chunk', file(chunk(FIRST, bytes(BLOCK - 14))), 'truncated', 7, 'file ends inside a split record'],
    ['a FULL chunk inside a split record', file(chunk(FIRST, bytes(BLOCK - 14)), chunk(FULL, bytes(3))), 'corrupt', BLOCK, 'FULL chunk inside a split record'],
    ['a FIRST chunk inside a split record', file(chunk(FIRST, bytes(BLOCK - 14)), chunk(FIRST, bytes(3))), 'corrupt', BLOCK, 'FIRST chunk inside a split record'],
  ] as const)('reports %s with its kind, offset and message, keeping the records before it', (_what, log, kind, offset, message) => {
    const scan = scanWandbLog(log);
    expect(scan.damage).toEqual({ kind, offset, message });
  });

  it('refuses a chunk longer than what is left of its block', () => {
    const header = chunk(FULL, bytes(0));
    header.writeUInt16LE(BLOCK - 13, 4);
    const log = file(header, Buffer.alloc(BLOCK));
    expect(scanWandbLog(log).damage).toEqual({
      kind: 'corrupt',
      offset: 7,
      message: `chunk length ${BLOCK - 13} crosses the 32 KiB block boundary`,
    });
    // One byte less fits exactly (its checksum aside).
    header.writeUInt16LE(BLOCK - 14, 4);
    expect(scanWandbLog(file(header, Buffer.alloc(BLOCK))).damage?.message).toBe('chunk checksum mismatch (record 1)');
  });

  it('keeps the whole records before the damage', () => {
    const scan = scanWandbLog(file(chunk(FULL, bytes(4)), chunk(FULL, bytes(5)), chunk(9, bytes(1))));
    expect(scan.records.map((r) => r.payload.length)).toEqual([4, 5]);
    expect(scan.damage?.offset).toBe(7 + 11 + 12);
  });
});
