/**
 * The page's one-loop line builder (client/line-path.ts) against uPlot's own `linear` builder, in
 * chromium: the same lines drawn by a real uPlot both ways must give the same pixels, with missing
 * points, lines that leave the y range, two points a pixel column (the server's buckets) and a
 * line dense enough that uPlot thins it (handed back to uPlot).
 */
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium, NO_CHROMIUM, type BrowserHandle } from '../helpers/chromium.js';

/** A page script: uPlot and the builder, and a function drawing one chart either way. */
const ENTRY = `
import uPlot from 'uplot';
import { drawsItself, linePath } from './src/dashboard/client/line-path.ts';
globalThis.drawLines = async (data, ours, yRange) => {
  const holder = document.createElement('div');
  document.body.append(holder);
  const series = [{}];
  for (let i = 1; i < data.length; i++)
    series.push({ stroke: ['#4e79a7', '#f28e2b', '#e15759'][i % 3], width: 1.5, spanGaps: true,
      points: { show: false }, ...(ours ? { paths: linePath } : {}) });
  let drawn;
  const done = new Promise((resolve) => (drawn = resolve));
  // uPlot draws in a microtask after it is made: its draw hook says when.
  const plot = new uPlot({ width: 400, height: 200, legend: { show: false }, cursor: { show: false },
    scales: { x: { time: false }, y: yRange ? { range: yRange } : {} }, axes: [{ show: false }, { show: false }], series,
    hooks: { draw: [(u) => drawn(data.slice(1).map((_, k) => drawsItself(u, k + 1, 0, data[0].length - 1)))] } },
    data, holder);
  const itself = await done;
  const canvas = holder.querySelector('canvas');
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  const url = canvas.toDataURL();
  plot.destroy();
  holder.remove();
  return { url, painted, itself };
};
`;

interface Drawn {
  url: string;
  painted: number;
  /** For each line: whether the one-loop builder would draw it (else uPlot's own). */
  itself: boolean[];
}

function lines(): { name: string; data: (number | null)[][]; yRange?: [number, number]; itself: boolean }[] {
  const n = 700;
  const x = Array.from({ length: n }, (_, i) => i * 3);
  const wave = (k: number) => x.map((v) => Math.sin(v / (40 + k * 7)) * (1 + k) + k);
  const gappy = wave(1).map((v, i) => (i % 37 < 5 ? null : v));
  // Two points a pixel column: an envelope's min and max, as the server's buckets give.
  const zigzag = x.map((_, i) => (i % 2 === 0 ? -1 : 1) * (1 + Math.cos(i / 50)));
  const dense = Array.from({ length: 5000 }, (_, i) => i);
  return [
    { name: 'three lines', data: [x, wave(0), wave(1), wave(2)], itself: true },
    { name: 'missing points, spanned', data: [x, gappy, wave(2)], itself: true },
    { name: 'a min-max envelope', data: [x, zigzag], itself: true },
    { name: 'lines leaving a fixed y range', data: [x, wave(0), wave(3)], yRange: [-0.5, 2], itself: true },
    { name: 'a line uPlot thins itself', data: [dense, dense.map((i) => Math.sin(i / 9))], itself: false },
  ];
}

describe.skipIf(!hasChromium)(`the one-loop line path${hasChromium ? '' : ` (${NO_CHROMIUM})`}`, () => {
  let chrome: BrowserHandle;
  let script: string;

  beforeAll(async () => {
    const bundled = await build({
      stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'js' },
      bundle: true,
      format: 'iife',
      write: false,
      logLevel: 'warning',
    });
    script = bundled.outputFiles[0]?.text ?? '';
    chrome = await launchChromium();
  });
  afterAll(async () => {
    await chrome?.close();
  });

  it('draws the same pixels as uPlot’s own linear builder', async () => {
    const page = await chrome.browser.newPage();
    await page.setContent('<!doctype html><body></body>');
    await page.addScriptTag({ content: script });
    for (const { name, data, yRange, itself } of lines()) {
      const draw = (ours: boolean) =>
        page.evaluate(
          ([d, o, r]) =>
            (globalThis as unknown as { drawLines(...a: unknown[]): Promise<Drawn> }).drawLines(d, o, r),
          [data, ours, yRange ?? null] as const,
        );
      const theirs = await draw(false);
      const ours = await draw(true);
      // Something was drawn, or equal blank canvases would prove nothing.
      expect(theirs.painted, name).toBeGreaterThan(1000);
      expect(ours.painted, name).toBe(theirs.painted);
      expect(ours.url === theirs.url, name).toBe(true);
      // The comparison is of the one-loop builder where it should draw, not of uPlot with itself.
      expect(ours.itself, name).toEqual(data.slice(1).map(() => itself));
    }
    await page.close();
  });
});
