/**
 * `npm ci` printed "3 packages have install scripts not yet covered by allowScripts": every
 * dependency with an install script must be reviewed in package.json's allowScripts, so the
 * install is quiet today and keeps working when npm starts blocking unreviewed scripts.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

describe('install scripts', () => {
  it('are each reviewed in allowScripts, so npm ci prints no "not yet covered by allowScripts" advisory', () => {
    const pkg = JSON.parse(fs.readFileSync(`${ROOT}package.json`, 'utf8')) as {
      allowScripts?: Record<string, boolean>;
    };
    const lock = JSON.parse(fs.readFileSync(`${ROOT}package-lock.json`, 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript === true)
      .map(([where]) => where.replace(/^.*node_modules\//, ''));
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of withScripts) expect(pkg.allowScripts?.[name], name).toBeTypeOf('boolean');
  });
});
