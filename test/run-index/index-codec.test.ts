/** The index file's bytes: a header padded so records are read in place, and older headers still read. */
import { crc32 } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { RECORD_COLUMNS } from '../../src/run-index/bucket-record.js';
import { decodeIndex, defsJson, encodeBlock, encodeHeader, MAGIC } from '../../src/run-index/index-codec.js';
import type { IndexBlock } from '../../src/run-index/index-builder.js';

function block(records: number): IndexBlock {
  return {
    end: 1000,
    resume: 900,
    final: false,
    defs: [{ id: 0, run: 'r', phase: 'train', name: 'loss' }],
    records: Float64Array.from({ length: records * RECORD_COLUMNS }, (_, i) => i * 0.5),
    malformed: { count: 0, samples: [] },
  };
}

/** A header as written before it was padded: the JSON as it is. */
function unpaddedHeader(json: string): Buffer {
  const bytes = Buffer.from(json);
  const frame = Buffer.alloc(8);
  frame.writeUInt32LE(bytes.length, 0);
  frame.writeUInt32LE(crc32(bytes), 4);
  return Buffer.concat([MAGIC, frame, bytes]);
}

describe('index file bytes', () => {
  it('pads the header so every block records lie 8-byte aligned, and decodes them without a copy', () => {
    // A pid of 7 digits makes the JSON 59 bytes: not a multiple of 8 unpadded.
    const header = { inode: 12345, headLength: 4096, headHash: 99, pid: 1234567 };
    expect(JSON.stringify(header).length % 8).not.toBe(0);
    const bytes = Buffer.concat([encodeHeader(header), encodeBlock(block(3), 1), encodeBlock(block(5), 2)]);
    const decoded = decodeIndex(bytes);
    expect(decoded.header).toEqual(header);
    expect(decoded.headerBytes % 8).toBe(0);
    expect(decoded.blocks.map((b) => b.records.length / RECORD_COLUMNS)).toEqual([3, 5]);
    for (const b of decoded.blocks) {
      expect(b.records.buffer).toBe(bytes.buffer);
      expect([...b.records]).toEqual([...block(b.records.length / RECORD_COLUMNS).records]);
    }
  });

  it('reads an index written before the padding, copying its unaligned records', () => {
    const header = { inode: 12345, headLength: 4096, headHash: 99, pid: 1234567 };
    const bytes = Buffer.concat([unpaddedHeader(JSON.stringify(header)), encodeBlock(block(4), 1)]);
    const decoded = decodeIndex(bytes);
    expect(decoded.header).toEqual(header);
    expect(decoded.blocks[0]?.records.buffer).not.toBe(bytes.buffer);
    expect([...(decoded.blocks[0]?.records ?? [])]).toEqual([...block(4).records]);
  });
});

describe('the definitions of a block', () => {
  it('are the JSON of [id, run, phase, name] arrays, whatever pieces they are made in', () => {
    const names = ['loss', 'eval/acc', 'naïve "quoted" \\ name', 'layer_0/grad_norm', '日本語', ''];
    for (const count of [0, 1, 8191, 8192, 8193, 20_000]) {
      const defs = Array.from({ length: count }, (_, id) => ({
        id,
        run: id % 3 === 0 ? '' : `run-${id % 5}`,
        phase: id % 2 === 0 ? 'train' : 'eval',
        name: `${names[id % names.length] as string}${id}`,
      }));
      const expected = Buffer.from(JSON.stringify(defs.map((d) => [d.id, d.run, d.phase, d.name])));
      expect(Buffer.concat(defsJson(defs)).equals(expected), `${count} definitions`).toBe(true);
    }
  });
});
