/**
 * The worker's side of src/system/sample-ring.ts: writes each snapshot into the ring, posts the
 * key list (a new layout version) only when the keys change, and moves to a ring twice as large
 * when a sample outgrows a slot (many GPUs, many disks).
 */
import v8 from 'node:v8';
import { allocateRing, RingWriter, type RingBuffer } from './sample-ring.js';
import type { Snapshot } from './sample-taker.js';
import type { TypedPart, WorkerMessage } from './sampler-protocol.js';

export class SamplePublisher {
  private writer: RingWriter;
  private names: readonly string[] = [];
  private version = 0;
  private readonly post: (message: WorkerMessage) => void;
  private values = new Float64Array(0);

  constructor(ring: RingBuffer, post: (message: WorkerMessage) => void) {
    this.writer = new RingWriter(ring);
    this.post = post;
  }

  publish(snapshot: Snapshot, skipped: number): void {
    const keys = Object.keys(snapshot.values);
    if (!sameKeys(keys, this.names)) {
      this.names = keys;
      this.version++;
      this.post({ kind: 'layout', version: this.version, names: keys });
    }
    if (this.values.length !== keys.length) this.values = new Float64Array(keys.length);
    for (let i = 0; i < keys.length; i++) this.values[i] = snapshot.values[keys[i]];
    const typed: TypedPart = { host: snapshot.host, gpus: snapshot.gpus };
    const bytes = v8.serialize(typed);
    if (!this.writer.fits(keys.length, bytes.length)) {
      const { slots, valueCapacity, byteCapacity } = this.writer.shape;
      const ring = allocateRing({
        slots,
        valueCapacity: Math.max(valueCapacity, keys.length) * 2,
        byteCapacity: Math.max(byteCapacity, bytes.length) * 2,
      });
      this.writer = new RingWriter(ring);
      this.post({ kind: 'ring', ring });
    }
    this.writer.setSkipped(skipped);
    this.writer.write(snapshot.ts, this.version, this.values, bytes);
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
