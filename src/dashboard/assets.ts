/**
 * The page's script and stylesheet, bundled at build time (`scripts/build-dashboard.mjs`: our
 * client code with uPlot from node_modules) into dist/src/dashboard/assets/, and the page that
 * carries them inline. Found from the
 * package root, so the server works both from dist/ and from the TypeScript sources in tests.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errnoCode } from '../errors.js';

export interface Assets {
  js: string;
  css: string;
}

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('codex-telemetry: package.json not found above the dashboard module');
    dir = parent;
  }
  return dir;
}

let cached: Assets | undefined;

/** The bundled assets, or undefined when the package was not built (`npm run build`). */
export function loadAssets(): Assets | undefined {
  if (cached !== undefined) return cached;
  const dir = path.join(packageRoot(), 'dist', 'src', 'dashboard', 'assets');
  try {
    cached = {
      js: fs.readFileSync(path.join(dir, 'dashboard.js'), 'utf8'),
      css: fs.readFileSync(path.join(dir, 'dashboard.css'), 'utf8'),
    };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  return cached;
}

export const MISSING_ASSETS =
  'the dashboard page is not built: run "npm run build" in the codex-telemetry package';

/**
 * What every answer but the page carries: no script, style or other origin at all. uPlot sets
 * element styles through the CSSOM, which style-src does not govern.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A CSP source that allows exactly one inline block, by its SHA-256. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The bundle and stylesheet as they can sit inside `<script>` and `<style>`: neither closes early. */
export function inlineAssets(): Assets | undefined {
  const assets = loadAssets();
  if (assets === undefined) return undefined;
  return {
    js: assets.js.replace(/<\/script/gi, '<\\/script'),
    css: assets.css.replace(/<\/style/gi, '<\\/style'),
  };
}

export interface LivePage {
  html: string;
  /** The page's Content-Security-Policy: its one script and one stylesheet, by hash, and nothing else inline. */
  policy: string;
}

let livePageCached: LivePage | undefined;

/**
 * The served page with its script and stylesheet inline: the browser runs the script as the page
 * arrives instead of asking for it in a second round trip (the answers are `no-store`, so nothing
 * was cached between loads anyway). The policy stays as strict: only those two blocks, by hash.
 */
export function livePage(): LivePage | undefined {
  if (livePageCached !== undefined) return livePageCached;
  const assets = inlineAssets();
  if (assets === undefined) return undefined;
  const policy = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'",
    `script-src ${cspHash(assets.js)}`,
  ).replace("style-src 'self'", `style-src ${cspHash(assets.css)}`);
  livePageCached = {
    policy,
    html: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>codex-telemetry dashboard</title><link rel="icon" href="data:,"><style>${assets.css}</style></head>
<body><main id="dashboard"></main><script>${assets.js}</script></body></html>
`,
  };
  return livePageCached;
}
