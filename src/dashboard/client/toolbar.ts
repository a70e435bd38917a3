/**
 * The controls above the charts: smoothing, log-scale y, the x axis (and the system charts' own x
 * axis and smoothing switch), the metric filter, and the run legend (click a run to hide or show
 * it; a run with ranks picks its median-and-band view or one rank).
 */
import type { RunModel } from '../chart-model.js';
import { el } from './dom.js';
import { parseFilter, type ViewState, type XMode } from './view-state.js';

export function toolbar(state: ViewState, hasTime: boolean, changed: () => void): HTMLElement {
  const smoothing = el('input', {
    type: 'range',
    min: '0',
    max: '0.99',
    step: '0.01',
    value: String(state.smoothing),
    id: 'dash-smoothing',
  });
  const smoothingValue = el('output', { for: 'dash-smoothing' }, String(state.smoothing));
  smoothing.addEventListener('input', () => {
    state.smoothing = Number(smoothing.value);
    smoothingValue.textContent = smoothing.value;
    changed();
  });
  const logY = el('input', { type: 'checkbox', id: 'dash-log-y' });
  logY.addEventListener('change', () => {
    state.logY = logY.checked;
    changed();
  });
  const xMode = el('select', { id: 'dash-x' });
  for (const [value, label] of [
    ['step', 'step'],
    ['wall', 'wall time'],
    ['relative', 'relative time'],
  ] as const) {
    const option = el('option', { value }, label);
    if (value !== 'step' && !hasTime) option.disabled = true;
    xMode.append(option);
  }
  xMode.addEventListener('change', () => {
    state.xMode = xMode.value as XMode;
    changed();
  });
  // System charts have their own x axis: wall time unless asked to line up with training steps.
  const systemX = el('select', { id: 'dash-system-x' });
  for (const [value, label] of [
    ['wall', 'wall time'],
    ['relative', 'relative time'],
    ['step', 'training step (by time)'],
  ] as const) {
    const option = el('option', { value }, label);
    if (value === state.systemX) option.selected = true;
    systemX.append(option);
  }
  systemX.addEventListener('change', () => {
    state.systemX = systemX.value as ViewState['systemX'];
    changed();
  });
  const smoothSystem = el('input', { type: 'checkbox', id: 'dash-smooth-system' });
  smoothSystem.checked = state.smoothSystem;
  smoothSystem.addEventListener('change', () => {
    state.smoothSystem = smoothSystem.checked;
    changed();
  });
  const filter = el('input', {
    type: 'search',
    id: 'dash-filter',
    placeholder: 'filter metrics (regular expression)',
  });
  filter.addEventListener('input', () => {
    const parsed = parseFilter(filter.value);
    filter.classList.toggle('dash-invalid', parsed === undefined);
    if (parsed === undefined) return;
    state.filter = parsed;
    changed();
  });
  return el(
    'div',
    { class: 'dash-toolbar' },
    el('label', {}, 'smoothing ', smoothing, ' ', smoothingValue),
    el('label', {}, logY, ' log y'),
    el('label', {}, 'x axis ', xMode),
    el('label', {}, 'system x axis ', systemX),
    el('label', {}, smoothSystem, ' smooth system charts'),
    filter,
  );
}

export function runLegend(runs: readonly RunModel[], state: ViewState, changed: () => void): HTMLElement {
  const list = el('ul', { class: 'dash-runs' });
  for (const run of runs) {
    const swatch = el('span', { class: 'dash-swatch' });
    swatch.style.borderColor = run.color;
    const toggle = el(
      'button',
      {
        type: 'button',
        class: 'dash-run',
        'data-run': run.name,
        'aria-pressed': String(!state.hiddenRuns.has(run.name)),
      },
      swatch,
      run.name,
    );
    toggle.addEventListener('click', () => {
      if (state.hiddenRuns.has(run.name)) state.hiddenRuns.delete(run.name);
      else state.hiddenRuns.add(run.name);
      changed();
    });
    const item = el('li', {}, toggle);
    if (run.exitCode !== undefined) {
      const text = run.exitCode === 0 ? 'finished (exit code 0)' : `failed (exit code ${run.exitCode})`;
      item.append(' ', el('span', { class: 'dash-run-end', 'data-exit-code': String(run.exitCode) }, text));
    }
    if (run.ranks.length > 1) {
      const select = el(
        'select',
        { class: 'dash-rank', 'data-run': run.name },
        el('option', { value: 'band' }, `${run.ranks.length} ranks: median + min–max`),
      );
      for (const rank of run.ranks)
        select.append(el('option', { value: String(rank) }, `rank ${rank} alone`));
      const choice = state.rankChoice.get(run.name);
      select.value = choice === undefined ? 'band' : String(choice);
      select.addEventListener('change', () => {
        state.rankChoice.set(run.name, select.value === 'band' ? 'band' : Number(select.value));
        changed();
      });
      item.append(' ', select);
    }
    list.append(item);
  }
  return list;
}
