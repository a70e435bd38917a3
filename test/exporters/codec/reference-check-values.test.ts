/**
 * Our checksums against references computed apart: the published check values of "123456789" and
 * bit-at-a-time CRCs written from the polynomials in test/helpers (no code shared with src/).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, maskedCrc32c } from '../../../src/formats/codec/crc32c.js';
import { chunkChecksum } from '../../../src/formats/wandb/log-framing.js';
import { referenceCrc32, referenceCrc32c, referenceMask } from '../../helpers/reference-framing.js';

const CHECK_INPUT = Buffer.from('123456789', 'ascii');

describe('checksums against independent references', () => {
  it('the reference CRCs give the published check values: CRC-32 0xCBF43926, CRC-32C 0xE3069283', () => {
    expect(referenceCrc32(CHECK_INPUT)).toBe(0xcbf43926);
    expect(referenceCrc32c(CHECK_INPUT)).toBe(0xe3069283);
  });

  it('CRC-32C and its TFRecord mask equal the bitwise reference for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(crc32c(bytes)).toBe(referenceCrc32c(bytes));
        expect(maskedCrc32c(bytes)).toBe(referenceMask(referenceCrc32c(bytes)));
      }),
    );
  });

  it('a W&B chunk checksum is the IEEE CRC-32 of the type byte followed by the data, for every type', () => {
    expect(chunkChecksum(1, CHECK_INPUT)).toBe(referenceCrc32(Buffer.from('\x01123456789', 'latin1')));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.uint8Array({ maxLength: 300 }), (type, data) => {
        expect(chunkChecksum(type, data)).toBe(referenceCrc32(Uint8Array.of(type, ...data)));
      }),
    );
  });
});
