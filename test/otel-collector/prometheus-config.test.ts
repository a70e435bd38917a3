/**
 * The scrape config for many ranks: promtool accepts it (it resolves the file_sd globs too), and the
 * sample targets file is what Prometheus' file discovery reads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { requireBinary, runPromtool } from '../helpers/prometheus-server.js';

const DIR = path.resolve(import.meta.dirname, '../../otel-collector');
const CONFIG = path.join(DIR, 'prometheus.yml');

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  file_sd_configs?: Array<{ files: string[] }>;
}
const config = parse(readFileSync(CONFIG, 'utf8')) as { scrape_configs: ScrapeConfig[] };

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Node 20 has no fs.glob: enough for Prometheus' `dir/*.ext` file_sd patterns. */
function globSync(pattern: string, options: { cwd: string }): string[] {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (dir.includes('*')) throw new Error(`glob ${pattern}: only a * in the file name is supported`);
  const regex = new RegExp(`^${base.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  return readdirSync(path.join(options.cwd, dir))
    .filter((name) => regex.test(name))
    .map((name) => path.join(dir, name));
}

describe('otel-collector/prometheus.yml', () => {
  it('passes promtool check config', (ctx) => {
    const promtool = requireBinary('promtool', ctx.skip, 'prometheus');
    const result = runPromtool(promtool, ['check', 'config', CONFIG]);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.stdout + result.stderr).not.toMatch(/WARNING|FAILED/);
    expect(result.status).toBe(0);
  });

  it('discovers ranks from targets files, named like the ranks’ service.name', () => {
    const job = config.scrape_configs.find((scrape) => scrape.job_name === 'codex-telemetry');
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    const patterns = job?.file_sd_configs?.flatMap((sd) => sd.files) ?? [];
    expect(patterns.length).toBeGreaterThan(0);
    for (const pattern of patterns) {
      expect(globSync(pattern, { cwd: DIR }).length, `${pattern} matches no file`).toBeGreaterThan(0);
    }
  });

  it('ships a targets file with one host:port per rank and valid label names', () => {
    for (const file of globSync('targets/*.json', { cwd: DIR })) {
      const groups = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as Array<{
        targets: string[];
        labels?: Record<string, string>;
      }>;
      expect(groups.length, file).toBeGreaterThan(0);
      for (const group of groups) {
        for (const target of group.targets) expect(target, file).toMatch(/^[A-Za-z0-9.-]+:\d{1,5}$/);
        for (const [name, value] of Object.entries(group.labels ?? {})) {
          expect(name, file).toMatch(LABEL_NAME);
          expect(name.startsWith('__'), `${file}: ${name} is reserved`).toBe(false);
          expect(typeof value).toBe('string');
        }
      }
    }
  });
});
