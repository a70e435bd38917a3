/**
 * The rows docs/system-keys.md shows for the key tables, as cells. A test holds the document and
 * these equal, so the document cannot drift from the code.
 */
import { GPU_KEYS } from './gpu-keys.js';
import { GIB, HOST_KEYS, MIB, type HostKey, type WandbName } from './host-keys.js';
import type { InstrumentSpec } from './instrument-spec.js';

const code = (text: string): string => `\`${text}\``;

/** `hw.temperature` {`hw.sensor_location`=`gpu`} (0–1), as the document writes an instrument. */
export function describeInstrument(spec: InstrumentSpec | undefined): string {
  if (spec === undefined) return '—';
  let text = code(spec.name);
  const attributes = Object.entries(spec.attributes ?? {});
  if (attributes.length > 0) {
    text += ` {${attributes.map(([key, value]) => `${code(key)}=${code(String(value))}`).join(', ')}}`;
  }
  const notes: string[] = [];
  if (spec.kind !== 'gauge') notes.push(spec.kind);
  if (spec.scale === 0.01) notes.push('0–1');
  if (notes.length > 0) text += ` (${notes.join(', ')})`;
  return text;
}

export const GPU_DOC_HEADER = [
  'key',
  'unit',
  'NVML call',
  'DCGM exporter field',
  'OpenTelemetry instrument',
  'W&B key',
];

/** One row per GPU key: key, unit, NVML call, DCGM field, instrument, W&B key. */
export function gpuDocRows(): string[][] {
  return GPU_KEYS.map((entry) => [
    code(`gpu_<i>_${entry.key}`),
    entry.unit,
    entry.nvml,
    entry.dcgm ?? '—',
    describeInstrument(entry.instrument),
    entry.wandb === undefined ? '—' : code(`gpu.<i>.${entry.wandb}`),
  ]);
}

/** A markdown table (prettier aligns it; the test compares cells, not spacing). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export const HOST_DOC_HEADER = ['key', 'unit', 'meaning', 'OpenTelemetry instrument', 'W&B key'];

/** One row per host or process-tree key of that section. */
export function hostDocRows(section: HostKey['section']): string[][] {
  return HOST_KEYS.filter((entry) => entry.section === section).map((entry) => [
    code(entry.key),
    entry.unit,
    entry.meaning,
    entry.instrument,
    describeWandb(entry.wandb),
  ]);
}

function describeWandb(name: WandbName | undefined): string {
  if (name === undefined) return '—';
  const unit = name.scale === MIB ? ' (MiB)' : name.scale === GIB ? ' (GiB)' : '';
  return `${code(name.key)}${unit}`;
}
