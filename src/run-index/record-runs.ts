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
  const runOf = new Map<number, number>();
  const series: number[] = [];
  const levels: number[] = [];
  const counts: number[] = [];
  // The run of each record, then (below) the place each record goes.
  const place = new Int32Array(n);
  let lastKey = -1;
  let lastRun = -1;
  for (let i = 0; i < n; i++) {
    const o = i * RECORD_COLUMNS;
    const key = (records[o + LEVEL] as number) * 0x1_0000_0000 + (records[o + SERIES] as number);
    if (key !== lastKey) {
      let run = runOf.get(key);
      if (run === undefined) {
        run = series.length;
        runOf.set(key, run);
        series.push(records[o + SERIES] as number);
        levels.push(records[o + LEVEL] as number);
        counts.push(0);
      }
      lastKey = key;
      lastRun = run;
    }
    (counts[lastRun] as number)++;
    place[i] = lastRun;
  }
  const order = series
    .map((_, run) => run)
    .sort((a, b) => (levels[a] as number) - (levels[b] as number) || a - b);
  const next = new Int32Array(series.length);
  const runs = new Uint32Array(order.length * RUN_FIELDS);
  let at = 0;
  order.forEach((run, k) => {
    next[run] = at;
    at += counts[run] as number;
    runs[k * RUN_FIELDS] = series[run] as number;
    runs[k * RUN_FIELDS + 1] = levels[run] as number;
    runs[k * RUN_FIELDS + 2] = counts[run] as number;
  });
  let moved = false;
  for (let i = 0; i < n; i++) {
    const to = (next[place[i] as number] as number)++;
    place[i] = to;
    if (to !== i) moved = true;
  }
  if (moved) permute(records, place);
  return runs;
}

/** Moves record i to place[i] for every i, in place, following each cycle of the permutation. */
function permute(records: Float64Array, place: Int32Array): void {
  const held = new Float64Array(RECORD_COLUMNS);
  for (let i = 0; i < place.length; i++) {
    while (place[i] !== i) {
      const j = place[i] as number;
      const oi = i * RECORD_COLUMNS;
      const oj = j * RECORD_COLUMNS;
      held.set(records.subarray(oj, oj + RECORD_COLUMNS));
      records.copyWithin(oj, oi, oi + RECORD_COLUMNS);
      records.set(held, oi);
      place[i] = place[j] as number;
      place[j] = j;
    }
  }
}
