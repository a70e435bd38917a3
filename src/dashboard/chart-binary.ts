/**
 * `/api/chart?format=binary`: a chart answer with its number arrays as raw float64 instead of JSON
 * text. A chart of 100 runs is 300,000 numbers: as JSON, 3 MB that the server formats digit by
 * digit and the page parses back (about 200 ms of the server's time to the first render of 100
 * runs, and as much of the page's); as float64, 1.9 MB copied. Shared by the server (encode) and
 * the page (decode), so it uses nothing but the web platform.
 *
 * Bytes: u32 little-endian length of the head · the head, UTF-8 JSON, padded with spaces to a
 * multiple of 8 bytes from the start · the values, float64 (the host's byte order: little-endian
 * on every platform Node and Chromium run on). The head is the chart as JSON with each series'
 * number arrays (step, ts, y, lo, hi) left out and `$arrays` naming where each lies among the
 * values: `{"step": [first, length], ...}`. A value JSON cannot hold (NaN, ±Infinity, null) reads
 * back as null, as the JSON answer gives it.
 */
import type { ChartModel, SeriesModel } from './chart-model.js';

/** The number arrays of a series that travel as float64. */
const ARRAY_KEYS = ['step', 'ts', 'y', 'lo', 'hi'] as const;
type ArrayKey = (typeof ARRAY_KEYS)[number];

type HeadSeries = Omit<SeriesModel, ArrayKey> & { $arrays: Partial<Record<ArrayKey, [number, number]>> };

export function encodeChart(model: ChartModel): Uint8Array {
  let total = 0;
  for (const s of model.series) for (const key of ARRAY_KEYS) total += s[key]?.length ?? 0;
  const values = new Float64Array(total);
  let at = 0;
  const series: HeadSeries[] = model.series.map((s) => {
    const head: Record<string, unknown> = { ...s };
    const arrays: HeadSeries['$arrays'] = {};
    for (const key of ARRAY_KEYS) {
      const array = s[key];
      delete head[key];
      if (array === undefined) continue;
      for (let i = 0; i < array.length; i++) values[at + i] = array[i] ?? NaN;
      arrays[key] = [at, array.length];
      at += array.length;
    }
    head.$arrays = arrays;
    return head as HeadSeries;
  });
  const json = new TextEncoder().encode(JSON.stringify({ ...model, series }));
  const headEnd = Math.ceil((4 + json.length) / 8) * 8;
  const out = new Uint8Array(headEnd + values.byteLength);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  out.fill(0x20, 4 + json.length, headEnd);
  out.set(new Uint8Array(values.buffer), headEnd);
  return out;
}

export function decodeChart(bytes: ArrayBuffer): ChartModel {
  const length = new DataView(bytes).getUint32(0, true);
  const head = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes, 4, length))) as Omit<
    ChartModel,
    'series'
  > & { series: HeadSeries[] };
  const headEnd = Math.ceil((4 + length) / 8) * 8;
  const values = new Float64Array(bytes, headEnd, (bytes.byteLength - headEnd) / 8);
  const series = head.series.map((s) => {
    const { $arrays, ...rest } = s;
    const out: Record<string, unknown> = rest;
    for (const key of ARRAY_KEYS) {
      const place = $arrays[key];
      if (place === undefined) continue;
      const [first, count] = place;
      const array = new Array<number | null>(count);
      for (let i = 0; i < count; i++) {
        const v = values[first + i] as number;
        array[i] = Number.isFinite(v) ? v : null;
      }
      out[key] = array;
    }
    return out as unknown as SeriesModel;
  });
  return { ...head, series };
}
