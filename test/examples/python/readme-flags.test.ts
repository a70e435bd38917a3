/** examples/python/README.md left out --plain-json and --diverge-at; README left out --dashboard. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const hasPython = spawnSync('python3', ['--version']).status === 0;
if (process.env.CI && !hasPython) throw new Error('the example README test needs python3');

describe.runIf(hasPython)("the Python example's README", () => {
  it('lists every option train.py --help shows', () => {
    const help = spawnSync('python3', ['examples/python/train.py', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(help.status).toBe(0);
    // The options argparse lists (lines that start with one), not the examples in its description.
    const listed = help.stdout.slice(help.stdout.indexOf('options:'));
    const options = [...listed.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]+)/gm)]
      .map((m) => m[1] as string)
      .filter((o) => o !== '--help');
    expect(options).toEqual(expect.arrayContaining(['--plain-json', '--diverge-at']));
    const readme = fs.readFileSync(`${ROOT}examples/python/README.md`, 'utf8');
    const block = /## Options\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    for (const option of options) expect(block, option).toMatch(new RegExp(`^${option}\\b`, 'm'));
  });
});

describe("README's commands section", () => {
  it('names --dashboard, which demo, run and tail take', () => {
    const readme = fs.readFileSync(`${ROOT}README.md`, 'utf8');
    expect(readme).toMatch(/`--dashboard`[^.]*\(`demo`, `run` and `tail`/);
  });
});
