/**
 * Names and malformed lines come from the files, so summarize treats them as untrusted text: no
 * raw control characters on a terminal, no formula a spreadsheet would run, no HTML a markdown
 * viewer would render, and JSON that every parser accepts.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSummarize } from './run-command.js';
import { requirePrerequisite } from '../../helpers/require-prerequisite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const ESC = '\u001b';
const NAMES = {
  escape: `${ESC}[31mred${ESC}[0m`,
  formula: '=HYPERLINK("http://x.example","y")',
  html: '<img src=x onerror=alert(1)>',
};

/** A stream whose names carry an ESC sequence, a formula and HTML, one lone surrogate, one bad line. */
function hostileStream(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-untrusted-'));
  dirs.push(dir);
  const line = (name: string, step: number): string =>
    `{"v":1,"ts":1700000000,"run_id":"r1","step":${step},"name":${JSON.stringify(name)},"value":${step + 1},"tags":{"phase":"train"}}`;
  const lines = [
    line(NAMES.escape, 0),
    line(NAMES.formula, 0),
    line(NAMES.html, 0),
    // A lone surrogate, as a JSON escape: valid JSON text, not encodable as UTF-8.
    `{"v":1,"ts":1700000000,"run_id":"r1","step":0,"name":"lone\\ud800x","value":1,"tags":{"phase":"train"}}`,
    // C1 CSI (U+009B) is legal unescaped in a JSON string, and terminals run it like ESC [.
    `{"v":1,"ts":1700000000,"run_id":"r1","step":"\u009b31mred","name":"x","value":1}`,
  ];
  const file = path.join(dir, 'metrics.ndjson');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('summarize output of untrusted names', () => {
  it('the summarize table prints ESC sequences in metric names raw: no longer, they are escaped, and so are malformed-line messages', async () => {
    const file = hostileStream();
    const result = await runSummarize([file]);
    expect(result.stdout).not.toContain(ESC);
    expect(result.stdout).toContain('\\x1b[31mred\\x1b[0m');
    expect(result.stderr).toMatch(/malformed/);
    expect(result.stderr).not.toContain('\u009b');
    expect(result.stderr).toContain('\\x9b31mred');
  });

  it('guards CSV cells that start with = + - @ tab or CR, as the dashboard CSV does', async () => {
    const result = await runSummarize([hostileStream(), '--format', 'csv']);
    expect(result.stdout).toContain(`"'=HYPERLINK(""http://x.example"",""y"")"`);
    for (const line of result.stdout.split('\r\n'))
      for (const cellText of line.split(',')) expect(cellText).not.toMatch(/^"?[=+@]/);
  });

  it('escapes HTML and control characters in markdown', async () => {
    const result = await runSummarize([hostileStream(), '--format', 'markdown']);
    expect(result.stdout).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(result.stdout).not.toContain('<img');
    expect(result.stdout).not.toContain(ESC);
  });

  it('writes JSON that is valid UTF-8: a lone surrogate becomes U+FFFD and is counted', async (ctx) => {
    const result = await runSummarize([hostileStream(), '--format', 'json']);
    expect(result.stdout).not.toMatch(/\\ud[89ab][0-9a-f]{2}/i);
    const parsed = JSON.parse(result.stdout) as { replacedLoneSurrogates?: number };
    expect(parsed.replacedLoneSurrogates).toBe(1);
    expect(result.stdout).toContain('lone\ufffdx');
    // jq refuses a lone surrogate escape; it accepts this output.
    requirePrerequisite(spawnSync('jq', ['--version']).status === 0, 'jq (apt-get install -y jq)', ctx.skip);
    const jq = spawnSync('jq', ['-r', '.replacedLoneSurrogates'], { input: result.stdout, encoding: 'utf8' });
    expect(jq.stdout.trim(), jq.stderr).toBe('1');
  });
});
