import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scrapeAddress, sdFilePath } from '../../../src/exporters/prometheus/sd-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'codex-sd-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('sdFilePath', () => {
  it('puts one file per rank in a folder, named by run and rank', () => {
    expect(sdFilePath(dir, 'run7', 3)).toBe(path.join(dir, 'run7-rank3.json'));
    expect(sdFilePath(`${dir}/new/`, 'run7', 0)).toBe(path.join(dir, 'new', 'run7-rank0.json'));
  });

  it('gives rank N > 0 its own file beside a file path, as the NDJSON streams do', () => {
    const file = path.join(dir, 'targets', 'job.json');
    mkdirSync(path.dirname(file));
    expect(sdFilePath(file, 'r', 0)).toBe(file);
    expect(sdFilePath(file, 'r', 2)).toBe(path.join(dir, 'targets', 'job.rank2.json'));
    expect(readdirSync(path.dirname(file))).toEqual([]);
  });
});

describe('scrapeAddress', () => {
  it('advertises the bound address, and the node name for a wildcard bind', () => {
    expect(scrapeAddress('127.0.0.3', 9464, 'node3')).toBe('127.0.0.3:9464');
    expect(scrapeAddress('0.0.0.0', 9465, 'node3')).toBe('node3:9465');
    expect(scrapeAddress('::', 9465, 'node3')).toBe('node3:9465');
    expect(scrapeAddress('::1', 9464, 'node3')).toBe('[::1]:9464');
  });
});
