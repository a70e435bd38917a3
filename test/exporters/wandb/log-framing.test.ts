/**
 * W&B log framing checked by an independent walk (test/helpers/reference-framing.ts): records of
 * any size, crossing 32 KiB blocks, written with `encode` and with in-place `encodeWith`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BLOCK_BYTES,
  chunkChecksum,
  framedLength,
  frameInto,
  WandbLogEncoder,
} from '../../../src/formats/wandb/log-framing.js';
import { expectValidWandbFraming, referenceCrc32 } from '../../helpers/reference-framing.js';

/** Payload sizes that land on every interesting boundary: empty, small, exactly at and across blocks. */
const size = fc.oneof(
  fc.nat({ max: 300 }),
  fc.integer({ min: BLOCK_BYTES - 40, max: BLOCK_BYTES + 40 }),
  fc.integer({ min: 2 * BLOCK_BYTES - 20, max: 3 * BLOCK_BYTES }),
);

function payloadOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function write(sizes: number[], inPlace: boolean): { file: Buffer; payloads: Uint8Array[] } {
  const encoder = new WandbLogEncoder();
  const parts: Uint8Array[] = [WandbLogEncoder.header()];
  const payloads = sizes.map((length, i) => payloadOf(length, i));
  let offset = 7;
  for (const payload of payloads) {
    expect(encoder.position).toBe(offset);
    const framed = inPlace
      ? encoder.encodeWith(payload.length, (buf, at) => buf.set(payload, at))
      : encoder.encode(payload);
    expect(framed.length).toBe(framedLength(offset, payload.length));
    offset += framed.length;
    parts.push(framed);
  }
  return { file: Buffer.concat(parts), payloads };
}

describe('W&B log framing', () => {
  it('frames any sequence of records so an independent walk finds every payload intact', () => {
    fc.assert(
      fc.property(fc.array(size, { maxLength: 12 }), (sizes) => {
        const { file, payloads } = write(sizes, false);
        const found = expectValidWandbFraming(file);
        expect(found.length).toBe(payloads.length);
        // Buffer.equals, not a deep equality: payloads run to 100 KB.
        found.forEach((payload, i) =>
          expect(Buffer.from(payload).equals(payloads[i]!), `record ${i}`).toBe(true),
        );
      }),
      { numRuns: 25 },
    );
  });

  it('writes the same bytes when the payload is encoded in place as when it is passed in', () => {
    fc.assert(
      fc.property(fc.array(size, { maxLength: 12 }), (sizes) => {
        expect(write(sizes, true).file.equals(write(sizes, false).file)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('pads a block with fewer than 7 bytes left and starts a zero-length FIRST chunk at exactly 7', () => {
    // After the header, a record of BLOCK_BYTES - 7 - 7 - k bytes leaves k + 7 bytes in block 0.
    for (const left of [3, 6, 7, 8]) {
      const first = BLOCK_BYTES - 7 - 7 - left;
      const { file, payloads } = write([first, 10], false);
      expect(expectValidWandbFraming(file).map((p) => p.length)).toEqual(payloads.map((p) => p.length));
      const second = 7 + 7 + first;
      if (left < 7) {
        expect([...file.subarray(second, second + left)].every((b) => b === 0)).toBe(true);
        expect(file[BLOCK_BYTES + 6]).toBe(1); // FULL chunk at the start of block 1
      } else if (left === 7) {
        expect(file.readUInt16LE(second + 4)).toBe(0); // FIRST chunk with no data
        expect(file[second + 6]).toBe(2);
        expect(file[BLOCK_BYTES + 6]).toBe(4); // LAST chunk holds all 10 bytes
      } else {
        expect(file[second + 6]).toBe(2);
      }
    }
  });
});

/** CRC-32/ISO-HDLC from a table built here from the polynomial (zlib is what src/ uses). */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  return c >>> 0;
});
function tableCrc32(type: number, data: Uint8Array): number {
  let crc = (CRC_TABLE[(0xffffffff ^ type) & 0xff]! ^ (0xffffffff >>> 8)) >>> 0;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)) >>> 0;
  return ~crc >>> 0;
}

/**
 * LevelDB-style framing written chunk by chunk from the format's rules: pad a block with fewer
 * than 7 bytes left, then take as much of the payload as the block holds; the first chunk is
 * FULL or FIRST, later ones MIDDLE or LAST.
 */
function referenceFrame(offset: number, payload: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  let at = offset;
  let used = 0;
  for (let index = 0; ; ) {
    const left = BLOCK_BYTES - (at % BLOCK_BYTES);
    if (left < 7) {
      parts.push(Buffer.alloc(left));
      at += left;
      continue;
    }
    const take = Math.min(left - 7, payload.length - used);
    const last = used + take === payload.length;
    const type = index === 0 ? (last ? 1 : 2) : last ? 4 : 3;
    const data = payload.subarray(used, used + take);
    const header = Buffer.alloc(7);
    header.writeUInt32LE(tableCrc32(type, data), 0);
    header.writeUInt16LE(take, 4);
    header[6] = type;
    parts.push(header, Buffer.from(data));
    at += 7 + take;
    used += take;
    index++;
    if (last) return Buffer.concat(parts);
  }
}

describe('W&B log framing at block edges', () => {
  it('the table CRC used as reference here has the CRC-32 check value', () => {
    // CRC-32("123456789") = 0xCBF43926: feed '1' as the "type" byte and the rest as data.
    expect(tableCrc32(0x31, Buffer.from('23456789'))).toBe(0xcbf43926);
    expect(tableCrc32(1, new Uint8Array(0))).toBe(referenceCrc32(Uint8Array.of(1)));
  });

  it('frames every record that ends within 10 bytes of a block edge as the format defines, byte for byte', () => {
    // Start offsets: after the header, mid-block, and each distance from a block's end that
    // changes the layout (more than 7 left, exactly 7 left, padding).
    const starts = [7, 8, 100, ...[15, 14, 13, 9, 8, 7, 6, 1].map((d) => BLOCK_BYTES - d), BLOCK_BYTES, 3 * BLOCK_BYTES - 7];
    const room = BLOCK_BYTES - 7;
    let checked = 0;
    for (const start of starts) {
      const left = BLOCK_BYTES - (start % BLOCK_BYTES);
      const firstRoom = (left < 7 ? BLOCK_BYTES : left) - 7;
      const lengths = new Set<number>();
      for (let n = 0; n <= 10; n++) lengths.add(n);
      for (let blocks = 0; blocks < 3; blocks++) {
        // The record's last chunk fills its block exactly when delta is 0.
        for (let delta = -10; delta <= 10; delta++) lengths.add(firstRoom + blocks * room + delta);
      }
      for (const length of lengths) {
        if (length < 0) continue;
        const payload = payloadOf(length, start);
        const next = payloadOf(3, 9);
        const first = referenceFrame(start, payload);
        const expected = Buffer.concat([first, referenceFrame(start + first.length, next)]);
        const where = `record of ${length} bytes at offset ${start}`;

        expect(framedLength(start, length), where).toBe(first.length);
        const out = Buffer.alloc(first.length, 0xee);
        expect(frameInto(out, start, payload), where).toBe(first.length);
        expect(out.equals(first), where).toBe(true);

        const copied = new WandbLogEncoder(start);
        const viaEncode = Buffer.concat([copied.encode(payload), copied.encode(next)]);
        expect(viaEncode.equals(expected), where).toBe(true);
        expect(copied.position, where).toBe(start + expected.length);

        const inPlace = new WandbLogEncoder(start);
        const viaWrite = Buffer.concat([
          inPlace.encodeWith(length, (buf, at) => buf.set(payload, at)),
          inPlace.encodeWith(3, (buf, at) => buf.set(next, at)),
        ]);
        expect(viaWrite.equals(expected), where).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(800);
  });

  it('copies a payload that sits elsewhere in the output buffer, before it or after it, at any gap', () => {
    // Only a payload already at its chunk's data area may skip the copy: a neighbour in the same
    // ArrayBuffer (a pooled Buffer, an arena) must still be copied.
    for (const start of [7, BLOCK_BYTES - 3, BLOCK_BYTES - 7, BLOCK_BYTES - 20]) {
      for (let length = 1; length <= 30; length++) {
        const expected = referenceFrame(start, payloadOf(length, length));
        for (let gap = 0; gap <= 16; gap++) {
          const arena = new ArrayBuffer(64 + 2 * expected.length + 2 * length);
          for (const payloadFirst of [true, false]) {
            const outAt = payloadFirst ? 32 + length + gap : 32;
            const payloadAt = payloadFirst ? 32 : 32 + expected.length + gap;
            const out = new Uint8Array(arena, outAt, expected.length);
            const payload = new Uint8Array(arena, payloadAt, length);
            payload.set(payloadOf(length, length));
            const where = `${length} bytes at offset ${start}, payload ${payloadFirst ? 'before' : 'after'} by ${gap}`;
            expect(frameInto(out, start, payload), where).toBe(expected.length);
            expect(Buffer.from(out).equals(expected), where).toBe(true);
          }
        }
      }
    }
  });

  it('copies a payload from another buffer even when its byte offset equals the data area offset', () => {
    const payload = new Uint8Array(new ArrayBuffer(32), 7, 5);
    payload.set([1, 2, 3, 4, 5]);
    const out = new Uint8Array(12);
    expect(frameInto(out, 7, payload)).toBe(12);
    expect(Buffer.from(out).equals(referenceFrame(7, payload))).toBe(true);
  });

  it('checksums any type byte as CRC-32 over the type byte then the data', () => {
    const data = payloadOf(40, 3);
    for (let type = 0; type < 256; type++) {
      expect(chunkChecksum(type, data), `type ${type}`).toBe(referenceCrc32(Uint8Array.from([type, ...data])));
    }
  });

  it('an empty record whose bytes sit in a zero-length ArrayBuffer gets the checksum of its type byte, not 0', () => {
    // CRC-32 of the lone byte 0x01 is 0xA505DF1B: the whole FULL chunk is written out by hand.
    const empty = new Uint8Array(new ArrayBuffer(0));
    expect(chunkChecksum(1, empty)).toBe(0xa505df1b);
    expect([...new WandbLogEncoder().encode(empty)]).toEqual([0x1b, 0xdf, 0x05, 0xa5, 0, 0, 1]);
  });

  it('hands out a fresh file header each time, so a caller writing into one cannot change the next', () => {
    const header = WandbLogEncoder.header();
    header.fill(0);
    expect([...WandbLogEncoder.header()]).toEqual([0x3a, 0x57, 0x26, 0x42, 0xe1, 0xbe, 0x00]);
  });
});
