/**
 * The page's script and stylesheet, bundled at build time (`scripts/build-dashboard.mjs`: our
 * client code with uPlot from node_modules) into dist/src/dashboard/assets/. Found from the
 * package root, so the server works both from dist/ and from the TypeScript sources in tests.
 */
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
 * No inline script or style, no other origin: the page can only run our bundle and talk to us.
 * uPlot sets element styles through the CSSOM, which style-src does not govern.
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

export const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>codex-telemetry dashboard</title><link rel="icon" href="data:,"><link rel="stylesheet" href="assets/dashboard.css">
<script src="assets/dashboard.js" defer></script></head>
<body><main id="dashboard"></main></body></html>
`;
