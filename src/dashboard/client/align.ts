/**
 * uPlot draws series that share one x array. Each of our series has its own x values (steps of
 * different runs, times of different hosts), so they are merged onto the sorted union of x, with
 * null where a series has no point; the lines span those gaps.
 */
export interface Track {
  x: (number | null)[];
  /** Columns that share this track's x (the line, and for a band its low and high edges). */
  columns: (number | null)[][];
}

export interface Aligned {
  x: number[];
  columns: (number | null)[][];
}

export function align(tracks: readonly Track[]): Aligned {
  const all = new Set<number>();
  for (const t of tracks) for (const x of t.x) if (x !== null && Number.isFinite(x)) all.add(x);
  const x = [...all].sort((a, b) => a - b);
  const index = new Map<number, number>();
  x.forEach((v, i) => index.set(v, i));
  const columns: (number | null)[][] = [];
  for (const t of tracks) {
    for (const column of t.columns) {
      const out = new Array<number | null>(x.length).fill(null);
      t.x.forEach((xv, i) => {
        if (xv === null) return;
        const at = index.get(xv);
        const v = column[i];
        if (at !== undefined && v !== undefined) out[at] = v;
      });
      columns.push(out);
    }
  }
  return { x, columns };
}
