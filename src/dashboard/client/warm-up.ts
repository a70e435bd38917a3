/**
 * One chart drawn off screen and thrown away while a live page waits for the answers of its first
 * charts (asked for just before). The first uPlot chart of a page costs tens of milliseconds more
 * than the next (canvas and font set-up, its code and ours run cold), and that wait is idle time on
 * the page's thread: the charts the user waits for are then drawn warm. (It was drawn while the
 * page waited for the index, which the server now answers within a few milliseconds.)
 */
import type { ChartModel } from '../chart-model.js';
import { ChartView } from './chart-view.js';
import { el } from './dom.js';
import type { ViewState } from './view-state.js';

/** Points of the throwaway line: enough that the drawing code runs its loops, not only its set-up. */
const WARM_UP_POINTS = 512;

function warmUpModel(): ChartModel {
  const step = Array.from({ length: WARM_UP_POINTS }, (_, i) => i);
  return {
    metric: 'warm-up',
    section: 'warm-up',
    series: [
      {
        id: 'warm-up',
        run: 'warm-up',
        phase: 'train',
        label: 'warm-up',
        color: '#4e79a7',
        dashed: false,
        rank: null,
        band: false,
        step,
        ts: step.map((i) => 1.7e9 + i),
        y: step.map((i) => Math.exp(-i / 200) + 0.05 * Math.sin(i)),
        marks: [],
        points: WARM_UP_POINTS,
        nan: 0,
        posInf: 0,
        negInf: 0,
        t0: 1.7e9,
      },
    ],
  };
}

/** Draws the throwaway chart under `parent` (off screen, hidden from assistive technology), then removes it. */
export function warmUpChart(parent: HTMLElement, state: ViewState): void {
  const holder = el('div', { class: 'dash-warm-up', 'aria-hidden': 'true' });
  parent.append(holder);
  const view = new ChartView(warmUpModel(), state, {
    togglePin: () => undefined,
    toggleRun: () => undefined,
    zoom: () => undefined,
  });
  holder.append(view.root);
  view.update(view.model);
  // uPlot draws in a microtask: the holder goes once that has run.
  setTimeout(() => {
    view.destroy();
    holder.remove();
  }, 0);
}
