/**
 * Entry point of the page script. A static report embeds its data in
 * `<script type="application/json" id="codex-dashboard-data">`; otherwise the page is served by
 * `codex-telemetry dashboard` and reads the server's API.
 */
import type { StaticModel } from '../chart-model.js';
import { App } from './app.js';
import { LiveSource, StaticSource } from './sources.js';

function main(): void {
  const root = document.getElementById('dashboard');
  if (root === null) return;
  const embedded = document.getElementById('codex-dashboard-data');
  const report = embedded?.textContent ? (JSON.parse(embedded.textContent) as StaticModel) : undefined;
  const app = new App(root, report === undefined ? new LiveSource() : new StaticSource(report));
  // Hide the no-script fallback (the static report's SVG charts) once the live charts take over.
  for (const fallback of document.querySelectorAll<HTMLElement>('.dash-fallback')) fallback.hidden = true;
  app.start(report?.title ?? 'codex-telemetry dashboard').catch((error: unknown) => {
    root.append(`dashboard error: ${error instanceof Error ? error.message : String(error)}`);
    console.error(error);
  });
}

main();
