/** Eight-level block sparklines from a series sample, averaged into a fixed number of cells. */
const BLOCKS = '▁▂▃▄▅▆▇█';
export const SPARK_WIDTH = 16;

export function sparkline(values: readonly number[], width = SPARK_WIDTH): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const cells = Math.min(width, finite.length);
  const means: number[] = [];
  for (let c = 0; c < cells; c++) {
    const from = Math.floor((c * finite.length) / cells);
    const to = Math.floor(((c + 1) * finite.length) / cells);
    let sum = 0;
    for (let i = from; i < to; i++) sum += finite[i] as number;
    means.push(sum / (to - from));
  }
  const lo = Math.min(...means);
  const hi = Math.max(...means);
  const span = hi - lo;
  return means
    .map((m) => BLOCKS[span === 0 ? 3 : Math.min(7, Math.floor(((m - lo) / span) * 8))] as string)
    .join('');
}
