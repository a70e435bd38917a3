/**
 * The fast path for history and summary records gives what the full schema-driven decoder gives,
 * record by record, on every W&B log we hold (the SDK's own, our golden vectors), and steps aside
 * for everything else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NameTable } from '../../src/ndjson/line/name-table.js';
import { scanWandbLog } from '../../src/formats/wandb/log-scan.js';
import { decodeRecord } from '../../src/formats/wandb/record-codec.js';
import type { KeyedItem } from '../../src/formats/wandb/record-types.js';
import { KeyedRecordDecoder } from '../../src/sources/wandb/keyed-records.js';
import { keyOf, parseValueJson } from '../../src/sources/wandb/wandb-values.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

function logs(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.wandb') && !file.includes('corrupt'))
    .map((file) => path.join(dir, file));
}

describe('the fast history and summary decoder', () => {
  it('decodes every history row and summary update exactly as the full decoder does, and nothing else', () => {
    const decoder = new KeyedRecordDecoder(new NameTable());
    let fast = 0;
    let other = 0;
    for (const log of [
      ...logs(path.join(FIXTURES, 'real-writers', 'runs')),
      ...logs(path.join(FIXTURES, 'wandb')),
    ]) {
      for (const { payload } of scanWandbLog(fs.readFileSync(log)).records) {
        const full = decodeRecord(payload);
        const body = full.history ?? (full.summary?.remove === undefined ? full.summary : undefined);
        const keyed = decoder.decode(payload);
        if (body === undefined) {
          expect(keyed).toBeUndefined();
          other++;
          continue;
        }
        const items: KeyedItem[] =
          full.history !== undefined ? (full.history.item ?? []) : (full.summary?.update ?? []);
        expect(keyed?.kind).toBe(full.history !== undefined ? 'history' : 'summary');
        expect(keyed?.keys).toEqual(items.map(keyOf));
        const values = keyed?.values.map((value) =>
          typeof value === 'number' ? value : parseValueJson(value),
        );
        expect(values).toEqual(items.map((item) => parseValueJson(item.value_json ?? 'null')));
        if (full.history !== undefined) {
          const num = full.history.step?.num;
          expect(keyed?.stepNum).toBe(num === undefined ? undefined : Number(num));
        }
        fast++;
      }
    }
    expect(fast).toBeGreaterThan(1000);
    expect(other).toBeGreaterThan(10);
  });

  it('hands a record it cannot read to the full decoder instead of guessing', () => {
    const decoder = new KeyedRecordDecoder(new NameTable());
    // history { item { key: wire type 0 } }: a key that is not a string.
    expect(decoder.decode(Buffer.from([0x12, 0x04, 0x0a, 0x02, 0x08, 0x01]))).toBeUndefined();
    // A length running past the record.
    expect(decoder.decode(Buffer.from([0x12, 0x09, 0x0a, 0x02]))).toBeUndefined();
  });
});
