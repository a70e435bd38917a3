/** docs/system-keys.md shows the code's key tables, cell for cell (spacing aside). */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { GPU_KEYS } from '../../src/system/keys/gpu-keys.js';
import { HOST_KEYS } from '../../src/system/keys/host-keys.js';
import {
  GPU_DOC_HEADER,
  HOST_DOC_HEADER,
  gpuDocRows,
  hostDocRows,
  markdownTable,
} from '../../src/system/keys/key-docs.js';

const DOC = fileURLToPath(new URL('../../docs/system-keys.md', import.meta.url));

/** The first markdown table after `heading`, as trimmed cells (header row first, separator left out). */
function tableAfter(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(heading);
  expect(start, `heading "${heading}" in docs/system-keys.md`).toBeGreaterThanOrEqual(0);
  const lines = markdown.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) break;
    if (/^\|[\s|:-]+\|$/.test(line)) continue;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

const doc = fs.readFileSync(DOC, 'utf8');
/** On a mismatch, the table to paste into the document (prettier aligns it). */
const hint = (header: string[], rows: string[][]): string =>
  `expected table:\n${markdownTable(header, rows)}`;

test('the GPU table of docs/system-keys.md equals GPU_KEYS, with the DCGM exporter field of each key', () => {
  const expected = [GPU_DOC_HEADER, ...gpuDocRows()];
  expect(tableAfter(doc, '## GPUs (NVML'), hint(GPU_DOC_HEADER, gpuDocRows())).toEqual(expected);
  expect(GPU_DOC_HEADER).toContain('DCGM exporter field');
});

test('the host and process tables of docs/system-keys.md equal HOST_KEYS', () => {
  expect(tableAfter(doc, '## Host (Linux'), hint(HOST_DOC_HEADER, hostDocRows('host'))).toEqual([
    HOST_DOC_HEADER,
    ...hostDocRows('host'),
  ]);
  expect(tableAfter(doc, '## Watched process tree'), hint(HOST_DOC_HEADER, hostDocRows('process'))).toEqual([
    HOST_DOC_HEADER,
    ...hostDocRows('process'),
  ]);
});

test('every DCGM field named in the GPU table is a DCGM_FI_ name, and the key tables name no key twice', () => {
  for (const entry of GPU_KEYS) {
    for (const field of entry.dcgm?.match(/`[^`]+`/g) ?? [])
      expect(field, entry.key).toMatch(/^`DCGM_FI_[A-Z_]+`$/);
  }
  const keys = [...HOST_KEYS.map((entry) => entry.key), ...GPU_KEYS.map((entry) => entry.key)];
  expect(new Set(keys).size).toBe(keys.length);
});

test('instruments that several keys share agree on kind and unit', () => {
  const byName = new Map<string, string>();
  for (const { instrument } of GPU_KEYS) {
    if (!instrument) continue;
    const shape = `${instrument.kind} ${instrument.unit}`;
    expect(byName.get(instrument.name) ?? shape, instrument.name).toBe(shape);
    byName.set(instrument.name, shape);
  }
});
