/**
 * The Grafana dashboard: it parses, its variables and data sources are wired, every series it
 * queries is one codex-telemetry exports (training names from a live /metrics scrape of the real
 * pipeline, host and GPU names from the instrument definitions in src/), and a real Prometheus
 * parses every query.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry } from '../../src/telemetry.js';
import { PrometheusServer, requireBinary } from '../helpers/prometheus-server.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DASHBOARD = path.join(ROOT, 'otel-collector/grafana/codex-training-dashboard.json');

interface Target {
  refId: string;
  expr: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { uid?: string };
  targets?: Target[];
  repeat?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  templating: { list: Array<{ name: string; type: string; query?: unknown }> };
  panels: Panel[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const queryPanels = dashboard.panels.filter((panel) => panel.type !== 'row');
const exprs = queryPanels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
]);

/** Metric names an expression selects: bare identifiers that are not functions, keywords or labels. */
function referencedNames(expr: string): { names: string[]; nameRegexes: string[] } {
  const nameRegexes = [...expr.matchAll(/__name__\s*=~\s*"([^"]*)"/g)].map((m) => m[1] as string);
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // string literals
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range selectors
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = [...stripped.matchAll(/(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1] as string)
    .filter((word) => !PROMQL_WORDS.has(word));
  return { names, nameRegexes };
}

/** OTel instrument names for host, process and GPU metrics defined anywhere under src/. */
function otelNamesInSource(): string[] {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        // String literals only (comments mention `process.env`, which is not an instrument).
        for (const m of readFileSync(full, 'utf8').matchAll(
          /['"]((?:system|process|hw|codex\.gpu)\.[a-z0-9_.]+)['"]/g,
        )) {
          if (m[1] !== 'process.env') found.add(m[1] as string);
        }
      }
    }
  };
  walk(path.join(ROOT, 'src'));
  return [...found];
}

let scrapeDir: string;
const exported = new Set<string>();
let sourceHostNames: string[] = [];
const isHostOrGpu = (name: string): boolean => /^(system|process|hw|codex_gpu)_/.test(name);

beforeAll(async () => {
  // Names as the real pipeline serves them, not a list typed into this test.
  scrapeDir = mkdtempSync(path.join(tmpdir(), 'codex-dash-'));
  const lines: string[] = [];
  const telemetry = await startTelemetry(
    {
      outDir: scrapeDir,
      prometheus: true,
      prometheusPort: 0,
      systemMetricsInterval: 0,
      installExitHandlers: false,
    },
    { env: {}, warn: () => undefined, info: (line) => lines.push(line) },
  );
  try {
    telemetry.log({ loss: 1 }, { step: 0 });
    telemetry.log({ loss: 0.5 }, { step: 1 });
    const url = lines.find((line) => line.startsWith('metrics: '))?.slice('metrics: '.length);
    if (url === undefined) throw new Error(`telemetry printed no metrics URL: ${JSON.stringify(lines)}`);
    const body = await (await fetch(url)).text();
    for (const m of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const [, name, type] = m as unknown as [string, string, string];
      exported.add(name);
      if (type === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) exported.add(name + suffix);
    }
  } finally {
    await telemetry.shutdown();
  }
  // Host and GPU instruments, under the name the Prometheus exporter gives them (counters get _total).
  sourceHostNames = otelNamesInSource();
  for (const otelName of sourceHostNames) {
    const promName = otelName.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_{2,}/g, '_');
    exported.add(promName);
    exported.add(`${promName}_total`);
  }
});

afterAll(() => rmSync(scrapeDir, { recursive: true, force: true }));

describe('otel-collector/grafana/codex-training-dashboard.json', () => {
  it('has a uid, a title, unique panel ids and panels that fit the 24-column grid', () => {
    expect(dashboard.uid).toBeTruthy();
    expect(dashboard.title).toBeTruthy();
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
    expect(queryPanels.length).toBeGreaterThanOrEqual(10);
  });

  it('queries through the datasource variable and defines every variable it uses', () => {
    const defined = new Set(dashboard.templating.list.map((variable) => variable.name));
    for (const panel of queryPanels) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, `${panel.title} has no query`).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe('${datasource}');
      if (panel.repeat !== undefined) expect(defined).toContain(panel.repeat);
    }
    const used = new Set(
      [...JSON.stringify(dashboard).matchAll(/\$\{?([a-zA-Z]\w*)/g)].map((m) => m[1] as string),
    );
    for (const name of used) expect(defined, `$${name} is used but not defined`).toContain(name);
  });

  it('covers training scalars, throughput and GPU panels', () => {
    const all = exprs.join('\n');
    expect(all).toContain('phase="train"');
    expect(all).toContain('codex_steps(_total)?');
    expect(all).toContain('codex_step_duration_bucket');
    expect(all).toMatch(/hw_gpu_utilization/);
  });

  it('names only training series the real /metrics endpoint serves', () => {
    expect(exported.size).toBeGreaterThan(0);
    const training = exprs
      .flatMap((expr) => referencedNames(expr).names)
      .filter((name) => !isHostOrGpu(name));
    expect(training.length).toBeGreaterThan(0);
    expect(training.filter((name) => !exported.has(name))).toEqual([]);
    const regexes = exprs.flatMap((expr) => referencedNames(expr).nameRegexes).filter((r) => !isHostOrGpu(r));
    expect(regexes.length).toBeGreaterThan(0);
    for (const regex of regexes) {
      const pattern = new RegExp(`^(?:${regex})$`);
      const matches = [...exported].filter((name) => pattern.test(name));
      expect(matches, `__name__=~"${regex}" matches no exported series`).not.toEqual([]);
    }
  });

  it('names only host and GPU series that src/ defines as instruments', (ctx) => {
    if (sourceHostNames.length === 0) {
      // The system sampler (issue 5) defines these; without it the host and GPU panels point at nothing.
      const reason = 'no system.*/process.*/hw.* instrument names under src/ (system sampler not merged)';
      if (process.env.CI) throw new Error(`${reason}; the dashboard's host and GPU panels cannot be checked`);
      ctx.skip(`skipped: ${reason}`);
    }
    const system = exprs.flatMap((expr) => referencedNames(expr).names).filter(isHostOrGpu);
    expect(system.length).toBeGreaterThan(0);
    expect(system.filter((name) => !exported.has(name))).toEqual([]);
    const regexes = exprs.flatMap((expr) => referencedNames(expr).nameRegexes).filter(isHostOrGpu);
    for (const regex of regexes) {
      const pattern = new RegExp(`^(?:${regex})$`);
      expect(
        [...exported].filter((name) => pattern.test(name)),
        `__name__=~"${regex}"`,
      ).not.toEqual([]);
    }
  });

  it('is accepted by a real Prometheus query parser, variables substituted', async (ctx) => {
    const binary = requireBinary('prometheus', ctx.skip);
    const dir = mkdtempSync(path.join(tmpdir(), 'codex-dash-prom-'));
    const prometheus = await PrometheusServer.start({ binary, dir, targets: [] });
    try {
      for (const expr of exprs) {
        const concrete = expr
          .replaceAll('$__rate_interval', '1m')
          .replaceAll('$scalar', 'loss')
          .replaceAll('$run', '.*')
          .replaceAll('$instance', '.*');
        await expect(prometheus.query(concrete), concrete).resolves.toBeInstanceOf(Array);
      }
    } finally {
      await prometheus.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
