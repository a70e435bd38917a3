/**
 * The house rules of src/, read from the code itself: which folder may import which, and what the
 * published declarations hold. A move that breaks one fails here, not in review.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');
const DIST = path.resolve(import.meta.dirname, '../../dist/src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every relative import of every source file, as [importer, imported] paths relative to src/. */
function imports(): [string, string][] {
  const edges: [string, string][] = [];
  for (const file of sources(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), match[1] as string).replace(/\.js$/, '.ts');
      edges.push([path.relative(SRC, file), path.relative(SRC, target)]);
    }
  }
  return edges;
}

describe('the house', () => {
  it('keeps summarize and the dashboard siblings: neither imports the other', () => {
    const crossing = imports().filter(
      ([from, to]) =>
        (from.startsWith('summarize/') && to.startsWith('dashboard/')) ||
        (from.startsWith('dashboard/') && to.startsWith('summarize/')),
    );
    expect(crossing).toEqual([]);
  });

  it('reads NDJSON through one layer: no reader reaches into the exporters, and src/ndjson imports no consumer', () => {
    const edges = imports();
    const readers = ['summarize/', 'dashboard/', 'bridge/'];
    expect(
      edges.filter(
        ([from, to]) => readers.some((r) => from.startsWith(r)) && to.startsWith('exporters/ndjson/'),
      ),
    ).toEqual([]);
    const consumers = [...readers, 'cli/', 'exporters/', 'runtime/', 'telemetry.ts'];
    expect(
      edges.filter(([from, to]) => from.startsWith('ndjson/') && consumers.some((c) => to.startsWith(c))),
    ).toEqual([]);
  });

  it('has one follower and one usage error', () => {
    const texts = sources(SRC).map(
      (file) => [path.relative(SRC, file), fs.readFileSync(file, 'utf8')] as const,
    );
    expect(texts.filter(([, text]) => /class UsageError\b/.test(text)).map(([file]) => file)).toEqual([
      'errors.ts',
    ]);
    // A follower polls, and notices rotation by comparing the path's inode with the one it reads.
    const followers = texts.filter(([, text]) => /\.ino\s*!==/.test(text) && /\bpoll\(\)/.test(text));
    expect(followers.map(([file]) => file).filter((file) => !file.startsWith('exporters/'))).toEqual([
      'ndjson/stream-follower.ts',
    ]);
  });
});

describe('the published API', () => {
  it('exports the option types users reach, and ships no member marked @internal', () => {
    const index = fs.readFileSync(path.join(DIST, 'index.d.ts'), 'utf8');
    for (const name of [
      'CheckpointOptions',
      'WarnFn',
      'NdjsonExporterOptions',
      'TensorBoardExporterOptions',
      'WandbExporterOptions',
    ]) {
      expect(index, name).toMatch(new RegExp(`\\b${name}\\b`));
    }
    const telemetry = fs.readFileSync(path.join(DIST, 'telemetry.d.ts'), 'utf8');
    expect(telemetry).toMatch(/\blog\(/);
    for (const member of ['recordEval', 'recordSystem', 'systemSampler', 'hasFlushTimer']) {
      expect(telemetry, member).not.toMatch(new RegExp(`\\b${member}\\b`));
    }
  });
});
