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
 */
export interface Track {
  x: (number | null)[];
  /** Columns that share this track's x (the line, and for a band its low and high edges). */
  columns: (number | null)[][];
}

export interface Aligned {
  x: number[];
  columns: (number | null)[][];
  /** Per track, per row: the index of the track's own point on that row, or null. */
  points: (number | null)[][];
}

const finite = (x: number | null | undefined): x is number =>
  x !== null && x !== undefined && Number.isFinite(x);

export function align(tracks: readonly Track[], maxRows = Infinity): Aligned {
  const all = new Set<number>();
  for (const t of tracks) for (const x of t.x) if (finite(x)) all.add(x);
  // Per track, per point: its row (before rows without any point are dropped), -1 for none.
  const cellOf: Int32Array[] = [];
  let cellX: Float64Array;
  if (all.size <= maxRows) {
    cellX = Float64Array.from(all).sort();
    const index = new Map<number, number>();
    cellX.forEach((v, i) => index.set(v, i));
    for (const t of tracks)
      cellOf.push(Int32Array.from(t.x, (x) => (finite(x) ? (index.get(x) as number) : -1)));
  } else {
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of all) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const cells = Math.max(2, Math.floor(maxRows));
    const longest = tracks.reduce((n, t) => Math.max(n, t.x.length), 0);
    // Moved points can run past the last cell, by at most a track's length.
    const size = cells + longest;
    const width = (hi - lo) / (cells - 1);
    cellX = new Float64Array(size);
    for (let c = 0; c < size; c++) cellX[c] = lo + c * width;
    const usedBy = new Int32Array(size).fill(-1);
    tracks.forEach((t, k) => {
      const out = new Int32Array(t.x.length).fill(-1);
      t.x.forEach((x, i) => {
        if (!finite(x)) return;
        let c = Math.round((x - lo) / width);
        while (usedBy[c] === k) c++;
        usedBy[c] = k;
        out[i] = c;
      });
      cellOf.push(out);
    });
  }
  // Rows: the cells that hold a point, in order.
  const rowOf = new Int32Array(cellX.length).fill(-1);
  for (const cells of cellOf) for (const c of cells) if (c >= 0) rowOf[c] = 0;
  const x: number[] = [];
  rowOf.forEach((used, c) => {
    if (used === 0) {
      rowOf[c] = x.length;
      x.push(cellX[c] as number);
    }
  });
  const columns: (number | null)[][] = [];
  const points: (number | null)[][] = [];
  tracks.forEach((t, k) => {
    const cells = cellOf[k] as Int32Array;
    const own = new Array<number | null>(x.length).fill(null);
    cells.forEach((c, i) => {
      if (c >= 0) own[rowOf[c] as number] = i;
    });
    points.push(own);
    for (const column of t.columns) columns.push(own.map((i) => (i === null ? null : (column[i] ?? null))));
  });
  return { x, columns, points };
}
