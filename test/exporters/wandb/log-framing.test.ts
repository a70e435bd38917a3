/**
 * W&B log framing checked by an independent walk (test/helpers/reference-framing.ts): records of
 * any size, crossing 32 KiB blocks, written with `encode` and with in-place `encodeWith`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES, framedLength, WandbLogEncoder } from '../../../src/formats/wandb/log-framing.js';
import { expectValidWandbFraming } from '../../helpers/reference-framing.js';

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
