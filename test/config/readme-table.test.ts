/** README's configuration table and the field table it is generated from stay equal. */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS, configTableRows } from '../../src/config/fields.js';
import { resolveTrainConfig, TRAIN_CONFIG_FIELDS } from '../../src/config/train-config.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The cells of the first table after "## Configuration", trimmed (prettier pads them). */
function readmeRows(): string[][] {
  const text = fs.readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('## Configuration'));
  const lines = section.split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const table: string[] = [];
  for (let i = first; i < lines.length && (lines[i] as string).startsWith('|'); i++)
    table.push(lines[i] as string);
  return table.slice(2).map((line) =>
    line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim()),
  );
}

describe('the configuration table', () => {
  it('in README equals the one generated from the field table', () => {
    expect(readmeRows()).toEqual(configTableRows());
  });

  it('declares every TrainConfig field once, with a snake_case alias that resolves', () => {
    const names = CONFIG_FIELDS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...TRAIN_CONFIG_FIELDS]).toEqual(names);
    for (const field of CONFIG_FIELDS) {
      expect(field.alias).toMatch(/^[a-z0-9_]+$/);
      expect(field.doc.length).toBeGreaterThan(0);
    }
    expect(resolveTrainConfig({ flush_interval: 3 } as never, {}).flushInterval).toBe(3);
  });

  it('has every field default resolve as documented when nothing is set', () => {
    const resolved = resolveTrainConfig({ outDir: '/o' }, {}) as unknown as Record<string, unknown>;
    for (const field of CONFIG_FIELDS) {
      if (field.default === undefined || field.kind === 'path') continue;
      expect(resolved[field.name], field.name).toEqual(field.default);
    }
  });
});
