/**
 * README's links must lead somewhere in a fresh clone: its screenshot links pointed into the
 * git-ignored test-output/, which a clone does not have.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = ['README.md', 'examples/python/README.md', 'docs/ndjson-schema.md'];
const inGit = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: ROOT }).status === 0;
if (process.env.CI && !inGit) throw new Error('the README link test needs git and a checkout');

/** Relative link targets of a markdown file, resolved from the repository root. */
function localLinks(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] as string)
    .filter((target) => !/^([a-z]+:|#)/.test(target))
    .map((target) => path.relative(ROOT, path.resolve(ROOT, path.dirname(file), target.replace(/#.*$/, ''))));
}

describe.runIf(inGit)("README's links", () => {
  it('lead to files a fresh clone has: present, and not git-ignored (test-output/ is)', () => {
    const links = DOCS.flatMap(localLinks);
    expect(links).toContain('docs/screenshots/dashboard-demo.png');
    for (const link of links) {
      expect(fs.existsSync(path.join(ROOT, link)), link).toBe(true);
      const ignored = spawnSync('git', ['check-ignore', '-q', link], { cwd: ROOT }).status === 0;
      expect(ignored, `${link} is git-ignored`).toBe(false);
    }
  });
});
