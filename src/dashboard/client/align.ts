/**
 * uPlot draws series that share one x array. Each of our series has its own x values (steps of
 * different runs, times of different hosts), so they are merged onto one sorted set of rows, with
 * null where a series has no point; the lines span those gaps.
 *
 * The rows are the sorted union of x while it has at most `maxRows` values. Runs whose x values
 * differ (each run's envelope puts its points at the steps of its own minima and maxima) make a
 * union of up to runs × 2 points a pixel column: 100 runs, 78,000 rows of 200 columns a chart.
 * Past `maxRows`, x values are placed on a grid of `maxRows` cells over their range instead: a
 * point moves by at most half a cell, or to the next cell its own line has free (two of its points
 * in one cell), so at 2 cells a pixel (two points a pixel column a line, as the server sends)
 * a point moves by a pixel and a half at most, and every point is kept.
 *
 * This runs for every chart the page draws (100 runs × 1,176 points a chart on the first render
 * of 100 runs): plain loops over typed arrays, no closure or array per point, and the union is
 * not collected past `maxRows` values (the grid needs only the range).
 */
export interface Track {
  x: (number | null)[];
  /** Columns that share this track's x (the line, and for a band its low and high edges). */
  columns: (number | null)[][];
}

export interface Aligned {
  x: number[];
  columns: (number | null)[][];
  /**
   * Track `k`'s own point on each row (its index in the track), or null: made when first asked
   * (the hover readout), not for every line of every render.
   */
  points(k: number): (number | null)[];
}

const finite = (x: number | null | undefined): x is number =>
  x !== null && x !== undefined && Number.isFinite(x);

/** The distinct finite x values, sorted; undefined once there are more than `limit`. */
function union(tracks: readonly Track[], limit: number): Float64Array | undefined {
  const all = new Set<number>();
  for (const t of tracks) {
    const xs = t.x;
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i];
      if (!finite(v)) continue;
      all.add(v);
      if (all.size > limit) return undefined;
    }
  }
  return Float64Array.from(all).sort();
}

/** Per track, per point: its cell of `cellX` (exact union), -1 for a point that cannot be placed. */
function unionCells(tracks: readonly Track[], cellX: Float64Array): Int32Array[] {
  const index = new Map<number, number>();
  for (let c = 0; c < cellX.length; c++) index.set(cellX[c] as number, c);
  return tracks.map((t) => {
    const xs = t.x;
    const out = new Int32Array(xs.length);
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i];
      out[i] = finite(v) ? (index.get(v) as number) : -1;
    }
    return out;
  });
}

/** Per track, per point: its cell of a grid of `cells` cells from `lo` to `hi` (see above). */
function gridCells(
  tracks: readonly Track[],
  lo: number,
  hi: number,
  cells: number,
): { cellX: Float64Array; cellOf: Int32Array[] } {
  let longest = 0;
  for (const t of tracks) if (t.x.length > longest) longest = t.x.length;
  // Moved points can run past the last cell, by at most a track's length.
  const size = cells + longest;
  const width = (hi - lo) / (cells - 1);
  const cellX = new Float64Array(size);
  for (let c = 0; c < size; c++) cellX[c] = lo + c * width;
  const usedBy = new Int32Array(size).fill(-1);
  const cellOf = tracks.map((t, k) => {
    const xs = t.x;
    const out = new Int32Array(xs.length);
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i];
      if (!finite(v)) {
        out[i] = -1;
        continue;
      }
      let c = Math.round((v - lo) / width);
      while (usedBy[c] === k) c++;
      usedBy[c] = k;
      out[i] = c;
    }
    return out;
  });
  return { cellX, cellOf };
}

export function align(tracks: readonly Track[], maxRows = Infinity): Aligned {
  let lo = Infinity;
  let hi = -Infinity;
  let total = 0;
  for (const t of tracks) {
    const xs = t.x;
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i];
      if (!finite(v)) continue;
      total++;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const exact = total <= maxRows ? union(tracks, Infinity) : union(tracks, maxRows);
  const { cellX, cellOf } =
    exact !== undefined
      ? { cellX: exact, cellOf: unionCells(tracks, exact) }
      : gridCells(tracks, lo, hi, Math.max(2, Math.floor(maxRows)));
  // Rows: the cells that hold a point, in order.
  const rowOf = new Int32Array(cellX.length).fill(-1);
  for (const cells of cellOf)
    for (let i = 0; i < cells.length; i++) if ((cells[i] as number) >= 0) rowOf[cells[i] as number] = 0;
  const x: number[] = [];
  for (let c = 0; c < cellX.length; c++)
    if (rowOf[c] === 0) {
      rowOf[c] = x.length;
      x.push(cellX[c] as number);
    }
  const rows = x.length;
  const columns: (number | null)[][] = [];
  tracks.forEach((t, k) => {
    const cells = cellOf[k] as Int32Array;
    for (const column of t.columns) {
      const out = new Array<number | null>(rows).fill(null);
      // In point order: of two points of one track on one row (the same x twice), the later shows.
      for (let i = 0; i < cells.length; i++) {
        const c = cells[i] as number;
        if (c >= 0) out[rowOf[c] as number] = column[i] ?? null;
      }
      columns.push(out);
    }
  });
  const made: (number | null)[][] = [];
  return {
    x,
    columns,
    points(k: number): (number | null)[] {
      const cached = made[k];
      if (cached !== undefined) return cached;
      const cells = cellOf[k];
      const own = new Array<number | null>(rows).fill(null);
      if (cells !== undefined)
        for (let i = 0; i < cells.length; i++) {
          const c = cells[i] as number;
          if (c >= 0) own[rowOf[c] as number] = i;
        }
      made[k] = own;
      return own;
    },
  };
}
