/**
 * A SystemSample as the training thread receives it from the ring: the flat keys as two columns
 * (the names of their layout and a Float64Array), which is what a row is made of, and the typed
 * part still serialized. The `values` object and the typed part are built on first access only
 * (a metrics scrape, a test), so receiving a sample costs two copies and no decoding.
 */
import v8 from 'node:v8';
import type { GpuInfo } from './nvml/gpu-info.js';
import type { DiskIo, FlatValues, GpuSample, HostSample, InterfaceIo, SystemSample } from './sample.js';
import type { TypedPart } from './sampler-protocol.js';
import type { CpuMode } from './proc/parse-stat.js';

export class ReceivedSample implements SystemSample {
  readonly ts: number;
  readonly seq: number;
  readonly names: readonly string[];
  readonly columns: Float64Array;
  private readonly serialized: Uint8Array;
  private readonly infoByIndex: ReadonlyMap<number, GpuInfo>;
  private flat: FlatValues | undefined;
  private typed: { host: HostSample; gpus: GpuSample[] } | undefined;

  constructor(
    ts: number,
    seq: number,
    names: readonly string[],
    columns: Float64Array,
    serialized: Uint8Array,
    infoByIndex: ReadonlyMap<number, GpuInfo>,
  ) {
    this.ts = ts;
    this.seq = seq;
    this.names = names;
    this.columns = columns;
    this.serialized = serialized;
    this.infoByIndex = infoByIndex;
  }

  get values(): Readonly<FlatValues> {
    if (this.flat === undefined) {
      const flat: FlatValues = {};
      for (let i = 0; i < this.names.length; i++) flat[this.names[i]] = this.columns[i];
      this.flat = flat;
    }
    return this.flat;
  }

  get host(): Readonly<HostSample> {
    return this.decode().host;
  }

  get cpuModes(): Readonly<Partial<Record<CpuMode, number>>> | undefined {
    return this.decode().host.cpu?.modes;
  }

  get interfaces(): readonly InterfaceIo[] {
    return this.decode().host.interfaces;
  }

  get disks(): readonly DiskIo[] {
    return this.decode().host.disks;
  }

  get gpus(): readonly GpuSample[] {
    return this.decode().gpus;
  }

  private decode(): { host: HostSample; gpus: GpuSample[] } {
    if (this.typed === undefined) {
      const part = v8.deserialize(this.serialized) as TypedPart;
      const gpus: GpuSample[] = [];
      for (const gpu of part.gpus) {
        const info = this.infoByIndex.get(gpu.index);
        if (info) gpus.push({ info, values: gpu.values });
      }
      this.typed = { host: part.host, gpus };
    }
    return this.typed;
  }
}
