/**
 * Groups a block's bucket records into runs: the records of one series at one level, together, in
 * stream order, with the runs of level 0 first, then level 1, and so on. A reader that draws a
 * series at one level then reads one range of the file per block, not every record
 * (docs/run-index.md); a level's runs lie side by side, so the series of a chart drawn at the same
 * level are one range.
 */
import { LEVEL, RECORD_COLUMNS, SERIES } from './bucket-record.js';

/** Numbers per run in `groupRuns`' answer: series, level, record count. */
export const RUN_FIELDS = 3;

/**
 * Reorders `records` in place into runs and answers them as [series, level, count] triples in
 * file order. Records of one series and level keep their order; runs of a level come in the order
 * their series first appear. Linear in the records: the first block of a reader's index holds
 * 430,000 of them (60 MB), which a copy would double.
 */
export function groupRuns(records: Float64Array): Uint32Array {
  const n = records.length / RECORD_COLUMNS;
  const runs = new RunTable(records, n);
  const series = new Uint32Array(n);
  const levels = new Uint32Array(n);
  const counts = new Uint32Array(n);
  let runCount = 0;
  // The run of each record, then (below) the place each record goes.
  const place = new Int32Array(n);
  let lastSeries = -1;
  let lastLevel = -1;
  let lastRun = -1;
  for (let i = 0; i < n; i++) {
    const o = i * RECORD_COLUMNS;
    const s = records[o + SERIES] as number;
    const level = records[o + LEVEL] as number;
    if (s !== lastSeries || level !== lastLevel) {
      let run = runs.get(s, level);
      if (run === -1) {
        run = runCount++;
        runs.set(s, level, run);
        series[run] = s;
        levels[run] = level;
      }
      lastSeries = s;
      lastLevel = level;
      lastRun = run;
    }
    (counts[lastRun] as number)++;
    place[i] = lastRun;
  }
  // Runs by level, each level's in the order their series first appear.
  const order = new Uint32Array(runCount);
  for (let run = 0; run < runCount; run++) order[run] = run;
  let maxLevel = 0;
  for (let run = 0; run < runCount; run++) maxLevel = Math.max(maxLevel, levels[run] as number);
  if (maxLevel < 64) {
    // A stable counting sort: linear, no comparator calls for a million runs.
    const levelStart = new Uint32Array(maxLevel + 2);
    for (let run = 0; run < runCount; run++) (levelStart[(levels[run] as number) + 1] as number)++;
    for (let level = 0; level <= maxLevel; level++)
      levelStart[level + 1] = (levelStart[level + 1] as number) + (levelStart[level] as number);
    for (let run = 0; run < runCount; run++) order[(levelStart[levels[run] as number] as number)++] = run;
  } else order.sort((a, b) => (levels[a] as number) - (levels[b] as number) || a - b);
  const next = new Int32Array(runCount);
  const out = new Uint32Array(runCount * RUN_FIELDS);
  let at = 0;
  order.forEach((run, k) => {
    next[run] = at;
    at += counts[run] as number;
    out[k * RUN_FIELDS] = series[run] as number;
    out[k * RUN_FIELDS + 1] = levels[run] as number;
    out[k * RUN_FIELDS + 2] = counts[run] as number;
  });
  let moved = false;
  for (let i = 0; i < n; i++) {
    const to = (next[place[i] as number] as number)++;
    place[i] = to;
    if (to !== i) moved = true;
  }
  if (moved) permute(records, place);
  return out;
}

/**
 * The run of each (series, level) seen: per level, a table indexed by series where the block's
 * series ids are dense (a reader's block of a million names: 8 MB, where a Map took about 60 MB),
 * else a Map (a writer's flush of a few records of series with high ids).
 */
class RunTable {
  private readonly tables: (Int32Array | undefined)[] = [];
  private readonly map: Map<number, number> | undefined;
  private readonly size: number;

  constructor(records: Float64Array, n: number) {
    let maxSeries = 0;
    let whole = true;
    for (let o = 0; o < records.length; o += RECORD_COLUMNS) {
      const s = records[o + SERIES] as number;
      const level = records[o + LEVEL] as number;
      if (!(Number.isInteger(s) && s >= 0 && Number.isInteger(level) && level >= 0 && level < 64))
        whole = false;
      else if (s > maxSeries) maxSeries = s;
    }
    this.size = maxSeries + 1;
    this.map = whole && this.size <= 2 * n + 1024 ? undefined : new Map();
  }

  get(series: number, level: number): number {
    if (this.map !== undefined) return this.map.get(level * 0x1_0000_0000 + series) ?? -1;
    const table = this.tables[level];
    return table === undefined ? -1 : (table[series] as number);
  }

  set(series: number, level: number, run: number): void {
    if (this.map !== undefined) {
      this.map.set(level * 0x1_0000_0000 + series, run);
      return;
    }
    let table = this.tables[level];
    if (table === undefined) this.tables[level] = table = new Int32Array(this.size).fill(-1);
    table[series] = run;
  }
}

/** Moves record i to place[i] for every i, in place, following each cycle of the permutation. */
function permute(records: Float64Array, place: Int32Array): void {
  for (let i = 0; i < place.length; i++) {
    while (place[i] !== i) {
      const j = place[i] as number;
      const oi = i * RECORD_COLUMNS;
      const oj = j * RECORD_COLUMNS;
      // Swapped number by number: subarrays to copy through were three objects per move.
      for (let c = 0; c < RECORD_COLUMNS; c++) {
        const held = records[oj + c] as number;
        records[oj + c] = records[oi + c] as number;
        records[oi + c] = held;
      }
      place[i] = place[j] as number;
      place[j] = j;
    }
  }
}
