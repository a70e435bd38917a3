/**
 * A table of rows (RowTable) goes into the builder as the same values added one at a time in row
 * order would: the same buckets, records and runs in every block, whatever the table's shape.
 */
import { describe, expect, it } from 'vitest';
import { IndexBuilder, SPAN_BYTES } from '../../src/run-index/index-builder.js';
import { RowTable, TABLE_CELLS } from '../../src/run-index/row-table.js';

const SPECIAL = [NaN, Infinity, -Infinity, -0];

describe('a table of rows in the index builder', () => {
  it('makes every block a builder makes from the same values added one at a time in row order', () => {
    let state = 3;
    const rand = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    const byTable = new IndexBuilder();
    const byValue = new IndexBuilder();
    const pool = Array.from({ length: 8 }, (_, i) => {
      const id = byTable.seriesId('r', 'train', `s${i}`);
      expect(byValue.seriesId('r', 'train', `s${i}`)).toBe(id);
      return id;
    });
    const table = new RowTable();
    let step = 0;
    let offset = 0;
    let blocks = 0;
    for (let t = 0; t < 400; t++) {
      // 1 to 6 series of the pool, in any order; 1 to 150 rows (more than a bucket holds).
      const ids = [...pool].sort(() => rand() - 0.5).slice(0, 1 + Math.floor(rand() * 6));
      expect(table.start(ids, ids.length)).toBe(true);
      const rows = 1 + Math.floor(rand() * 150);
      for (let r = 0; r < rows && table.takes(ids.length); r++) {
        if (rand() < 0.02) step -= Math.floor(rand() * 50);
        else if (rand() > 0.1) step++;
        // Now and then a row far past the one before: an open bucket that old is closed first.
        offset += rand() < 0.01 ? SPAN_BYTES + 1 : 1 + Math.floor(rand() * 200);
        const at = table.rows++;
        table.steps[at] = step;
        table.ts[at] = 1.7e9 + at;
        for (let i = 0; i < ids.length; i++) {
          const cell = at * ids.length + i;
          table.values[cell] =
            rand() < 0.05 ? (SPECIAL[Math.floor(rand() * 4)] as number) : rand() * 100 - 50;
          table.offsets[cell] = offset;
          offset += 1 + Math.floor(rand() * 100);
          byValue.add(
            ids[i] as number,
            step,
            1.7e9 + at,
            table.values[cell] as number,
            table.offsets[cell] as number,
          );
        }
      }
      byTable.addTable(table);
      // Small blocks: the order records are emitted in decides the order of each block's runs.
      if (rand() < 0.5 || t === 399) {
        const final = t === 399;
        const a = byTable.cut(offset, final);
        const b = byValue.cut(offset, final);
        expect({
          block: blocks,
          records: Array.from(a.records),
          runs: Array.from(a.runs ?? []),
          resume: a.resume,
        }).toEqual({
          block: blocks,
          records: Array.from(b.records),
          runs: Array.from(b.runs ?? []),
          resume: b.resume,
        });
        blocks++;
      }
    }
    expect(blocks).toBeGreaterThan(150);
  });

  it('is not made of a row that names a series twice, nor of more cells than it holds', () => {
    const table = new RowTable();
    expect(table.start([3, 4, 3], 3)).toBe(false);
    expect(table.start([3, 4, 5], 3)).toBe(true);
    expect(table.takes(3)).toBe(true);
    expect(table.takes(2)).toBe(false);
    table.rows = Math.floor(TABLE_CELLS / 3) - 1;
    expect(table.takes(3)).toBe(true);
    table.rows++;
    expect(table.takes(3)).toBe(false);
    expect(
      table.start(
        Array.from({ length: TABLE_CELLS + 1 }, (_, i) => i),
        TABLE_CELLS + 1,
      ),
    ).toBe(false);
  });
});

describe('the records of a table', () => {
  it('come in the order of the rows that closed them, across its series', () => {
    // b's bucket fills a row before a's does; or b's fills at row 5 and at row 6 the step goes back,
    // which closes a's.
    const cases = [
      { aRows: 54, bRows: 55, backAt: -1 },
      { aRows: 54, bRows: 58, backAt: 6 },
    ];
    for (const { aRows, bRows, backAt } of cases)
      for (const order of [
        [0, 1],
        [1, 0],
      ]) {
        const byTable = new IndexBuilder();
        const byValue = new IndexBuilder();
        const ids = ['a', 'b'].map((name) => byTable.seriesId('r', 'train', name));
        for (const name of ['a', 'b']) byValue.seriesId('r', 'train', name);
        let offset = 0;
        for (const [id, rows] of [
          [ids[0], aRows],
          [ids[1], bRows],
        ] as [number, number][])
          for (let r = 0; r < rows; r++) {
            byTable.add(id, r, r, r, offset);
            byValue.add(id, r, r, r, offset);
            offset += 10;
          }
        byTable.cut(offset);
        byValue.cut(offset);
        const columns = order.map((i) => ids[i] as number);
        const table = new RowTable();
        table.start(columns, 2);
        for (let r = 0; r < 20; r++) {
          const step = r < backAt || backAt === -1 ? 100 + r : r;
          table.steps[r] = step;
          table.ts[r] = 100 + r;
          for (let i = 0; i < 2; i++) {
            table.values[r * 2 + i] = r;
            table.offsets[r * 2 + i] = offset;
            byValue.add(columns[i] as number, step, 100 + r, r, offset);
            offset += 10;
          }
          table.rows++;
        }
        byTable.addTable(table);
        const a = byTable.cut(offset);
        const b = byValue.cut(offset);
        expect(Array.from(a.runs ?? [])).toEqual(Array.from(b.runs ?? []));
        expect(Array.from(a.records)).toEqual(Array.from(b.records));
      }
  });
});
