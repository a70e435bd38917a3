/**
 * Rows that log the same series in the same order (a training loop's steps), held as a table for
 * IndexBuilder.addTable: one step and time per row, one value and line offset per cell. The builder
 * then takes each series' column in one loop, with its open bucket in locals, instead of looking
 * the bucket up and updating it in memory for every value.
 */

/**
 * Cells (rows × series) a table holds: the sink hands a full table to the builder and starts
 * another, so a write of any size holds 8,192 cells here: 288 KB of arrays, and up to 32 KB in
 * the builder to put records back in row order. A dispatch of 1,024 rows of 5 scalars is 5,120.
 */
export const TABLE_CELLS = 8192;

export class RowTable {
  /** Series per row, and their ids. */
  k = 0;
  readonly series = new Int32Array(TABLE_CELLS);
  /** Rows held. */
  rows = 0;
  readonly steps = new Float64Array(TABLE_CELLS);
  readonly ts = new Float64Array(TABLE_CELLS);
  /** Cell (row r, series i) is at r * k + i. */
  readonly values = new Float64Array(TABLE_CELLS);
  readonly offsets = new Float64Array(TABLE_CELLS);
  /** Per series id: the table it was last a column of (a row naming a series twice is not a table). */
  private columnOf = new Int32Array(1024);
  private tables = 0;

  /**
   * Starts an empty table of the series `ids[0, k)`; false (and no table) when a series comes
   * twice in a row, whose values must then go in one at a time, in order.
   */
  start(ids: readonly number[], k: number): boolean {
    this.rows = 0;
    this.k = 0;
    if (k === 0 || k > TABLE_CELLS) return false;
    const table = ++this.tables;
    for (let i = 0; i < k; i++) {
      const id = ids[i] as number;
      if (id >= this.columnOf.length) {
        const bigger = new Int32Array(Math.max(id + 1, this.columnOf.length * 2));
        bigger.set(this.columnOf);
        this.columnOf = bigger;
      }
      if (this.columnOf[id] === table) return false;
      this.columnOf[id] = table;
      this.series[i] = id;
    }
    this.k = k;
    return true;
  }

  /** Whether another row of `k` series fits this table. */
  takes(k: number): boolean {
    return k === this.k && (this.rows + 1) * k <= TABLE_CELLS;
  }
}
