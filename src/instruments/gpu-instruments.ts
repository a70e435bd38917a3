/**
 * GPU instruments, made from the GPU key table (src/system/keys/gpu-keys.ts): one instrument per
 * distinct name there, observed from each GPU's typed sample. A new table entry with an
 * `instrument` is exported with no change here.
 */
import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import { GPU_KEYS } from '../system/keys/gpu-keys.js';
import type { InstrumentSpec } from '../system/keys/instrument-spec.js';
import type { GpuInfo, GpuSample } from '../system/system-sampler.js';

/** The attributes every GPU instrument carries (OTel hardware conventions, plus NVIDIA's UUID). */
export function gpuAttributes(gpu: GpuInfo): Attributes {
  return {
    'hw.type': 'gpu',
    'hw.id': String(gpu.index),
    'hw.name': gpu.name,
    'hw.vendor': 'NVIDIA',
    'gpu.uuid': gpu.uuid,
    'gpu.driver.version': gpu.driverVersion,
  };
}

function create(meter: Meter, spec: InstrumentSpec): Observable {
  const options = {
    unit: spec.unit,
    description: spec.description,
    valueType: spec.integer ? ValueType.INT : ValueType.DOUBLE,
  };
  switch (spec.kind) {
    case 'counter':
      return meter.createObservableCounter(spec.name, options);
    case 'updowncounter':
      return meter.createObservableUpDownCounter(spec.name, options);
    default:
      return meter.createObservableGauge(spec.name, options);
  }
}

export class GpuInstruments {
  readonly observables: Observable[] = [];
  /** Per GPU_KEYS slot: its instrument, or undefined for keys not exported. */
  private readonly bySlot: Array<{ observable: Observable; spec: InstrumentSpec } | undefined>;
  /** Per GPU index (and its info object): the attributes of each slot, built once. */
  private readonly attributes = new Map<GpuInfo, Attributes[]>();

  constructor(meter: Meter) {
    const byName = new Map<string, Observable>();
    this.bySlot = GPU_KEYS.map(({ instrument: spec }) => {
      if (spec === undefined) return undefined;
      let observable = byName.get(spec.name);
      if (observable === undefined) {
        observable = create(meter, spec);
        byName.set(spec.name, observable);
        this.observables.push(observable);
      }
      return { observable, spec };
    });
  }

  observe(result: BatchObservableResult, gpus: readonly GpuSample[]): void {
    for (const gpu of gpus) {
      const attributes = this.attributesOf(gpu.info);
      const values = gpu.values;
      for (let slot = 0; slot < values.length; slot++) {
        const target = this.bySlot[slot];
        const value = values[slot];
        // An absent key (NaN) stays absent, never 0.
        if (target === undefined || value !== value) continue;
        result.observe(target.observable, value * (target.spec.scale ?? 1), attributes[slot]);
      }
    }
  }

  private attributesOf(gpu: GpuInfo): Attributes[] {
    let attributes = this.attributes.get(gpu);
    if (attributes === undefined) {
      const common = gpuAttributes(gpu);
      attributes = GPU_KEYS.map(({ instrument }) => ({ ...common, ...instrument?.attributes }));
      this.attributes.set(gpu, attributes);
    }
    return attributes;
  }
}
