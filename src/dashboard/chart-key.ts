/**
 * Which chart a scalar is drawn on. Train and eval share a chart when their names match (`loss`
 * with phase eval, or `eval/loss`); system keys are grouped by kind, and the per-GPU keys
 * `gpu_<i>_<what>` share one chart per `<what>`, each GPU a line.
 */
import type { Phase } from '../step.js';

export interface ChartPlace {
  metric: string;
  section: string;
  /** The line within the chart besides run and rank: the phase, plus the GPU for GPU charts. */
  phase: Phase;
  sub: string;
}

const GPU_KEY = /^gpu_(\d+)_(.+)$/;
const SYSTEM_KINDS: [RegExp, string][] = [
  [/^(cpu_|load\d)/, 'cpu'],
  [/^(ram_|swap_)/, 'memory'],
  [/^disk_/, 'disk'],
  [/^net_/, 'network'],
  [/^proc_/, 'process'],
];

export function chartPlace(phase: Phase, name: string): ChartPlace {
  if (phase === 'system') {
    const gpu = GPU_KEY.exec(name);
    if (gpu !== null) {
      return {
        metric: `system/gpu ${gpu[2] as string}`,
        section: 'system: gpu',
        phase,
        sub: `gpu ${gpu[1] as string}`,
      };
    }
    const kind = SYSTEM_KINDS.find(([re]) => re.test(name))?.[1] ?? 'other';
    return { metric: `system/${name}`, section: `system: ${kind}`, phase, sub: '' };
  }
  if (name.startsWith('eval/')) return { metric: name.slice(5), section: 'scalars', phase: 'eval', sub: '' };
  return { metric: name, section: 'scalars', phase, sub: '' };
}

const SECTION_ORDER = [
  'scalars',
  'system: cpu',
  'system: memory',
  'system: disk',
  'system: network',
  'system: gpu',
];

/** Sections in a fixed order (scalars first), the rest alphabetically. */
export function compareSections(a: string, b: string): number {
  const ia = SECTION_ORDER.indexOf(a);
  const ib = SECTION_ORDER.indexOf(b);
  if (ia !== ib) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}
