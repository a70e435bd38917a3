/** The shared-memory ring that carries samples from the sampler's thread to the training thread. */
import v8 from 'node:v8';
import { expect, test } from 'vitest';
import { allocateRing, RingReader, RingWriter } from '../../src/system/sample-ring.js';
import { SamplePublisher } from '../../src/system/sample-publisher.js';
import type { Snapshot } from '../../src/system/sample-taker.js';
import type { TypedPart, WorkerMessage } from '../../src/system/sampler-protocol.js';

const always = (): boolean => true;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

test('samples come out in order with their timestamp, values, layout and typed bytes', () => {
  const ring = allocateRing({ slots: 4, valueCapacity: 8, byteCapacity: 64 });
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  expect(reader.pending).toBe(false);
  writer.write(1.5, 1, [1, 2, 3], bytes('a'));
  writer.write(2.5, 2, [4, 5], bytes('bc'));
  expect(reader.pending).toBe(true);
  const first = reader.next(always)!;
  expect([first.ts, first.layout, [...first.values], new TextDecoder().decode(first.typed)]).toEqual([
    1.5,
    1,
    [1, 2, 3],
    'a',
  ]);
  const second = reader.next(always)!;
  expect([second.ts, second.layout, [...second.values], new TextDecoder().decode(second.typed)]).toEqual([
    2.5,
    2,
    [4, 5],
    'bc',
  ]);
  expect(reader.next(always)).toBeUndefined();
  expect(reader.pending).toBe(false);
  expect(reader.lost).toBe(0);
});

test('a reader blocked for longer than the ring holds loses the oldest samples and counts them', () => {
  const ring = allocateRing({ slots: 4, valueCapacity: 1, byteCapacity: 1 });
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  for (let i = 1; i <= 10; i++) writer.write(i, 1, [i], bytes(''));
  const read: number[] = [];
  for (let slot = reader.next(always); slot; slot = reader.next(always)) read.push(slot.ts);
  // The 4 newest are kept; the 6 before them were overwritten, never returned torn.
  expect(read).toEqual([7, 8, 9, 10]);
  expect(reader.lost).toBe(6);
});

test('a sample whose key list has not arrived yet stays in the ring until it has', () => {
  const ring = allocateRing({ slots: 4, valueCapacity: 2, byteCapacity: 1 });
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  writer.write(1, 7, [1], bytes(''));
  expect(reader.next((layout) => layout !== 7)).toBeUndefined();
  expect(reader.pending).toBe(true);
  expect(reader.next(always)?.ts).toBe(1);
});

test('the skipped ticks the worker counted reach the reader', () => {
  const ring = allocateRing({ slots: 2, valueCapacity: 1, byteCapacity: 1 });
  new RingWriter(ring).setSkipped(5);
  expect(new RingReader(ring).skipped).toBe(5);
});

function snapshot(ts: number, values: Record<string, number>): Snapshot {
  return { ts, values, host: { disks: [], interfaces: [], processTree: [] }, gpus: [] };
}

test('the publisher posts the key list only when the keys change, and moves to a larger ring when a sample outgrows a slot', () => {
  const messages: WorkerMessage[] = [];
  const ring = allocateRing({ slots: 4, valueCapacity: 2, byteCapacity: 4096 });
  const publisher = new SamplePublisher(ring, (message) => messages.push(message));
  publisher.publish(snapshot(1, { a: 1, b: 2 }), 0);
  publisher.publish(snapshot(2, { a: 3, b: 4 }), 0);
  expect(messages).toEqual([{ kind: 'layout', version: 1, names: ['a', 'b'] }]);
  const reader = new RingReader(ring);
  expect([...reader.next(always)!.values]).toEqual([1, 2]);
  const second = reader.next(always)!;
  expect([...second.values]).toEqual([3, 4]);
  const typed = v8.deserialize(second.typed) as TypedPart;
  expect(typed).toEqual({ host: { disks: [], interfaces: [], processTree: [] }, gpus: [] });

  publisher.publish(snapshot(3, { a: 5, b: 6, c: 7 }), 2);
  expect(messages.slice(1).map((message) => message.kind)).toEqual(['layout', 'ring']);
  const larger = messages[2] as Extract<WorkerMessage, { kind: 'ring' }>;
  expect(larger.ring.valueCapacity).toBeGreaterThanOrEqual(3);
  // The old ring holds nothing more; the new one has the sample, stamped with the new key list.
  expect(reader.pending).toBe(false);
  const grown = new RingReader(larger.ring);
  const third = grown.next(always)!;
  expect([third.layout, [...third.values], grown.skipped]).toEqual([2, [5, 6, 7], 2]);
});
