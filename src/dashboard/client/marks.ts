/**
 * Non-finite values drawn where they happened, at the edge of the plot: +Inf a triangle at the
 * top, −Inf a triangle at the bottom, NaN a ring at the top. They are never drawn as 0 or dropped.
 */
import type uPlot from 'uplot';
import { NF_NAN, NF_NEG_INF, NF_POS_INF, type SeriesModel } from '../chart-model.js';
import { markX, type XMode } from './view-state.js';

export function drawMarks(u: uPlot, visible: readonly SeriesModel[], mode: XMode): void {
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  const r = 5 * devicePixelRatio;
  ctx.save();
  for (const s of visible) {
    ctx.fillStyle = s.color;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5 * devicePixelRatio;
    for (const mark of s.marks) {
      const x = markX(s, mark, mode);
      if (x === null) continue;
      const px = u.valToPos(x, 'x', true);
      if (px < left - 1 || px > left + width + 1) continue;
      const bits = mark[2];
      if ((bits & NF_POS_INF) !== 0) triangle(ctx, px, top, r, 1);
      if ((bits & NF_NEG_INF) !== 0) triangle(ctx, px, top + height, r, -1);
      if ((bits & NF_NAN) !== 0) {
        ctx.beginPath();
        ctx.arc(px, top + r + ((bits & NF_POS_INF) !== 0 ? 2 * r : 0), r * 0.8, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
  }
  ctx.restore();
}

/** A triangle pointing out of the plot (up at the top edge, down at the bottom). */
function triangle(ctx: CanvasRenderingContext2D, x: number, edge: number, r: number, up: 1 | -1): void {
  ctx.beginPath();
  ctx.moveTo(x, edge);
  ctx.lineTo(x - r, edge + up * 1.6 * r);
  ctx.lineTo(x + r, edge + up * 1.6 * r);
  ctx.closePath();
  ctx.fill();
}
