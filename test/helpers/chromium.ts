/**
 * Debian's chromium driven by playwright-core, which downloads no browser of its own. Missing
 * chromium skips the tests outside CI (with the reason) and fails them in CI.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CODEX_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium && process.env.CI) {
  throw new Error(
    `${CHROMIUM} is missing (apt-get install -y chromium); CI must install it, the browser tests do not skip in CI`,
  );
}
export const NO_CHROMIUM = `skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`;

/** Headless, and nothing that reaches the network on its own (the benches launch with these too). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserHandle {
  browser: BrowserContext;
  close(): Promise<void>;
}

/** A headless chromium with a fresh profile and nothing that reaches the network on its own. */
export async function launchChromium(): Promise<BrowserHandle> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-chromium-'));
  const browser: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: CHROMIUM_ARGS,
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type { Browser };
