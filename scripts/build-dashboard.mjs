// Bundles the dashboard page (our client code and uPlot, from node_modules) into one script and
// one stylesheet under dist/, so the server and the static report serve every asset themselves:
// no CDN, no network at run time.
import fs from 'node:fs';
import { build } from 'esbuild';

const out = new URL('../dist/src/dashboard/assets/', import.meta.url);
fs.mkdirSync(out, { recursive: true });
await build({
  entryPoints: [new URL('../src/dashboard/client/main.ts', import.meta.url).pathname],
  bundle: true,
  format: 'iife',
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  outfile: new URL('dashboard.js', out).pathname,
  logLevel: 'warning',
});
const css = [
  fs.readFileSync(new URL('../node_modules/uplot/dist/uPlot.min.css', import.meta.url), 'utf8'),
  fs.readFileSync(new URL('../src/dashboard/client/dashboard.css', import.meta.url), 'utf8'),
];
fs.writeFileSync(new URL('dashboard.css', out), css.join('\n'));
