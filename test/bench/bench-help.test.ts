/** The bench entry points answer --help with their usage and start nothing (no run, no temp folder). */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/bench/', import.meta.url));

describe('bench commands', () => {
  it.each([
    ['run-all.js', /^usage: node dist\/bench\/run-all\.js .*--only=PREFIX/],
    ['every-point/run.js', /^usage: node dist\/bench\/every-point\/run\.js .*--steps=N/],
    ['first-open-rss.js', /^usage: node dist\/bench\/first-open-rss\.js generate DIR RUNS STEPS/],
    ['names-index-memory.js', /^usage: node dist\/bench\/names-index-memory\.js \[NAMES/],
    ['open-ab.js', /^usage: node dist\/bench\/open-ab\.js DIR OPENS DIST_A/],
  ])('%s --help prints its usage and exits 0 at once', (script, usage) => {
    const result = spawnSync(process.execPath, [DIST + script, '--help'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(usage);
    expect(result.stdout).not.toMatch(/every-point: .* steps into|bench: .*\.bench\.js/);
  });
});
