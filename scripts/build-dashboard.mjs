// Bundles the dashboard page (our client code and uPlot, from node_modules) into one script and
// one stylesheet under dist/, so the server and the static report serve every asset themselves:
// no CDN, no network at run time.
import fs from 'node:fs';
import { build } from 'esbuild';

const out = new URL('../dist/src/dashboard/assets/', import.meta.url);

/**
 * uPlot builds an Intl.NumberFormat and an Intl.DateTimeFormat as its module loads: 70 ms of a
 * fresh tab's main thread in a chromium CPU profile (V8 sets up ICU's locale data on the first
 * Intl object), before the page has even asked for its index. The page formats every axis label
 * itself and hides uPlot's legend, so neither is used on a first render. Both are made on first
 * use instead. Each pattern must match once: a uPlot that changed fails the build here.
 */
const LAZY_INTL = [
  [
    "const numFormatter = new Intl.NumberFormat(domEnv ? nav.language : 'en-US');\nconst fmtNum = val => numFormatter.format(val);",
    "let numFormatter;\nconst fmtNum = val => (numFormatter ??= new Intl.NumberFormat(domEnv ? nav.language : 'en-US')).format(val);",
  ],
  ['const localTz = new Intl.DateTimeFormat().resolvedOptions().timeZone;', 'let localTz;'],
  [
    'else if (tz == localTz)',
    'else if (tz == (localTz ??= new Intl.DateTimeFormat().resolvedOptions().timeZone))',
  ],
];

const lazyIntl = {
  name: 'uplot-lazy-intl',
  setup(builder) {
    builder.onLoad({ filter: /uplot[\\/]dist[\\/]uPlot\.esm\.js$/ }, (args) => {
      let source = fs.readFileSync(args.path, 'utf8');
      for (const [from, to] of LAZY_INTL) {
        const at = source.indexOf(from);
        if (at < 0 || source.indexOf(from, at + 1) >= 0)
          throw new Error(
            `${args.path}: expected "${from}" once; uPlot changed, review LAZY_INTL in scripts/build-dashboard.mjs`,
          );
        source = source.replace(from, to);
      }
      return { contents: source, loader: 'js' };
    });
  },
};
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
  plugins: [lazyIntl],
});
const css = [
  fs.readFileSync(new URL('../node_modules/uplot/dist/uPlot.min.css', import.meta.url), 'utf8'),
  fs.readFileSync(new URL('../src/dashboard/client/dashboard.css', import.meta.url), 'utf8'),
];
fs.writeFileSync(new URL('dashboard.css', out), css.join('\n'));
