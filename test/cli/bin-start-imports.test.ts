/**
 * What every `codex-telemetry` start loads before it knows its command: the bin's static import
 * graph. Commands load their own modules on demand (codex-telemetry.ts); a static import that
 * reaches the OpenTelemetry packages made every start (a dashboard's, `--help`) parse them, about
 * 30 ms of the dashboard's time to its URL.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');
const IMPORT = /^(?:import|export)(?!\s+type\b)[^'"]*?from\s+['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]/gm;

/** Packages reached by static, non-type imports from `entry`, each with the chain that reaches it. */
function packagesReached(entry: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const match of fs.readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = (match[1] ?? match[2]) as string;
      const here = [...chain, path.relative(SRC, file)];
      if (spec.startsWith('.')) walk(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')), here);
      else if (!spec.startsWith('node:') && !packages.has(spec)) packages.set(spec, here);
    }
  };
  walk(entry, []);
  return packages;
}

describe('the codex-telemetry bin at start', () => {
  it('loads no package beyond node: modules before it dispatches', () => {
    const reached = packagesReached(path.join(SRC, 'cli/codex-telemetry.ts'));
    expect(Object.fromEntries(reached)).toEqual({});
  });

  it('finds a package reached through a chain of files (the check itself)', () => {
    const reached = packagesReached(path.join(SRC, 'cli/manifest-command.ts'));
    expect(reached.get('@opentelemetry/api')).toContain('manifest/write-run-manifest.ts');
  });
});
