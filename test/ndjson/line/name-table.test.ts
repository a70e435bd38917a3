import { describe, expect, it } from 'vitest';
import { HASH_SEED, hashStep, NameTable } from '../../../src/ndjson/line/name-table.js';

/** FNV-1a 32-bit, written out from its definition (offset basis 2166136261, prime 16777619). */
function fnv1a(bytes: Uint8Array): number {
  let hash = 2166136261;
  for (const byte of bytes) hash = Number((BigInt(hash ^ byte) * 16777619n) & 0xffffffffn) >>> 0;
  return hash | 0;
}

function hashOf(bytes: Uint8Array): number {
  let hash = HASH_SEED;
  for (const byte of bytes) hash = hashStep(hash, byte);
  return hash;
}

describe('NameTable', () => {
  it('hashes bytes with 32-bit FNV-1a', () => {
    for (const text of ['', 'a', 'loss', 'train/ε', 'x'.repeat(100)]) {
      const bytes = Buffer.from(text);
      expect(hashOf(bytes)).toBe(fnv1a(bytes));
    }
    // Published FNV-1a test vector: "a" → 0xe40c292c.
    expect(hashOf(Buffer.from('a')) >>> 0).toBe(0xe40c292c);
  });

  it('gives dense ids in first-seen order, the same by string and by bytes', () => {
    const table = new NameTable();
    expect(table.size).toBe(0);
    expect(table.idOfString('loss')).toBe(0);
    const buf = Buffer.from('xx"acc"loss"');
    expect(table.idOfBytes(buf, 3, 6, hashOf(buf.subarray(3, 6)))).toBe(1);
    expect(table.idOfBytes(buf, 7, 11, hashOf(buf.subarray(7, 11)))).toBe(0);
    expect(table.idOfString('acc')).toBe(1);
    expect(table.size).toBe(2);
    expect(table.name(1)).toBe('acc');
    expect(table.names).toEqual(['loss', 'acc']);
  });

  it('keeps ids stable through growth, with thousands of names and colliding hashes', () => {
    const table = new NameTable();
    const names = Array.from({ length: 3000 }, (_, i) => `metric/${i}`);
    // Every third name is looked up with one shared hash: they collide on every probe.
    const hash = (name: string, i: number): number => (i % 3 === 0 ? 12345 : hashOf(Buffer.from(name)));
    names.forEach((name, i) => {
      const buf = Buffer.from(`"${name}"`);
      expect(table.idOfBytes(buf, 1, buf.length - 1, hash(name, i))).toBe(i);
    });
    names.forEach((name, i) => {
      const buf = Buffer.from(`[[${name}]]`);
      expect(table.idOfBytes(buf, 2, buf.length - 2, hash(name, i))).toBe(i);
      expect(table.idOfString(name)).toBe(i);
    });
    expect(table.size).toBe(3000);
  });

  it('tells apart names with the same hash and length, or the same hash and a common prefix', () => {
    const table = new NameTable();
    const at = (text: string): number => {
      const buf = Buffer.from(text);
      return table.idOfBytes(buf, 0, buf.length, 7);
    };
    expect([at('ab'), at('ac'), at('abc'), at('a'), at('ab'), at('abc'), at('a')]).toEqual([
      0, 1, 2, 3, 0, 2, 3,
    ]);
  });

  it('copies the bytes it keeps, so a reused chunk buffer does not change a known name', () => {
    const table = new NameTable();
    const buf = Buffer.from('loss');
    const id = table.idOfBytes(buf, 0, 4, hashOf(buf));
    buf.write('lost');
    expect(table.idOfBytes(buf, 0, 4, hashOf(buf))).not.toBe(id);
    expect(table.idOfBytes(Buffer.from('loss'), 0, 4, hashOf(Buffer.from('loss')))).toBe(id);
    expect(table.names).toEqual(['loss', 'lost']);
  });
  it('never takes one name for another of the same hash and length, whatever bytes surround it', () => {
    const table = new NameTable();
    expect(table.idOfBytes(Buffer.from('abcd'), 0, 4, 7)).toBe(0);
    // Differs from the stored name at every byte.
    expect(table.idOfBytes(Buffer.from('wxyz'), 0, 4, 7)).toBe(1);
    // Same first byte, and the bytes before it spell the stored name's tail backwards.
    expect(table.idOfBytes(Buffer.from('dcbaXYZ'), 3, 7, 7)).toBe(2);
    expect(table.names).toEqual(['abcd', 'wxyz', 'aXYZ']);
  });

  it('keeping no strings, gives the same ids by string and by bytes, and each name back from its bytes', () => {
    const table = new NameTable({ keepStrings: false });
    const names = ['loss', 'train/ε', 'layer_7/grad_norm', '', 'x'.repeat(300)];
    names.forEach((name, i) => {
      const bytes = Buffer.from(`"${name}"`);
      expect(table.idOfBytes(bytes, 1, bytes.length - 1, hashOf(bytes.subarray(1, bytes.length - 1)))).toBe(
        i,
      );
    });
    names.forEach((name, i) => expect(table.idOfString(name)).toBe(i));
    expect(table.idOfString('acc')).toBe(names.length);
    const acc = Buffer.from('acc');
    expect(table.idOfBytes(acc, 0, 3, hashOf(acc))).toBe(names.length);
    expect(table.size).toBe(names.length + 1);
    expect(table.names).toEqual([]);
    expect([...names, 'acc'].map((_, i) => table.name(i))).toEqual([...names, 'acc']);
  });

  it('keeping no strings, tells a name with a lone surrogate from the one its bytes would decode to', () => {
    const table = new NameTable({ keepStrings: false });
    const lone = 'a\ud800';
    const replaced = 'a\ufffd';
    expect(table.idOfString(lone)).toBe(0);
    expect(table.idOfString(replaced)).toBe(1);
    expect(table.idOfString(lone)).toBe(0);
    expect(table.name(0)).toBe(lone);
    expect(table.name(1)).toBe(replaced);
  });

  it('keeping no strings, finds thousands of names through growth', () => {
    const table = new NameTable({ keepStrings: false });
    for (let i = 0; i < 5000; i++) expect(table.idOfString(`metric/${i}`)).toBe(i);
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(`metric/${i}`);
      expect(table.idOfBytes(bytes, 0, bytes.length, hashOf(bytes))).toBe(i);
    }
    expect(table.name(4321)).toBe('metric/4321');
  });
});
