/** The dashboard server over plain HTTP: what it serves, what it refuses, and the headers it sends. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDashboardArgs } from '../../src/cli/dashboard-command.js';
import { decodeChart } from '../../src/dashboard/chart-binary.js';
import { DEFAULT_PORT, startDashboard, type RunningDashboard } from '../../src/dashboard/server.js';
import { writeRun } from '../helpers/dashboard-runs.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: the path goes out exactly as written (no client-side `..` normalisation). */
function get(
  port: number,
  rawPath: string,
  options: { method?: string; host?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: rawPath,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? `127.0.0.1:${port}` },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard server', () => {
  let dir: string;
  let server: RunningDashboard;
  let port: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-dash-http-'));
    writeRun(path.join(dir, 'runs', 'a'), 20);
    fs.writeFileSync(path.join(dir, 'secret.ndjson'), '{"step":1,"secret":1}\n');
    fs.symlinkSync(path.join(dir, 'secret.ndjson'), path.join(dir, 'runs', 'a', 'escape.ndjson'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      server = await startDashboard({ inputs: ['runs'], port: 0 });
    } finally {
      process.chdir(cwd);
    }
    port = server.port;
  });

  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page with its bundle inline, allowed by hash in a strict Content-Security-Policy', async () => {
    const page = await get(port, '/');
    expect(page.status).toBe(200);
    const policy = page.headers['content-security-policy'] as string;
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).not.toMatch(/https?:\/\//);
    // One script and one stylesheet, inline (no second request before the script runs), and the
    // policy allows exactly those two blocks: nothing from anywhere, no other inline code.
    expect(page.body).not.toMatch(/<script[^>]*\bsrc=|<link[^>]*stylesheet/);
    const scripts = [...page.body.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] as string);
    const styles = [...page.body.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] as string);
    expect([scripts.length, styles.length]).toEqual([1, 1]);
    const built = (file: string): string =>
      fs.readFileSync(new URL(`../../dist/src/dashboard/assets/${file}`, import.meta.url), 'utf8');
    expect([scripts[0], styles[0]]).toEqual([built('dashboard.js'), built('dashboard.css')]);
    const sha = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    expect(policy).toBe(
      [
        "default-src 'none'",
        `script-src ${sha(scripts[0] as string)}`,
        `style-src ${sha(styles[0] as string)}`,
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
    );
    // Every other answer allows no script or style at all.
    expect((await get(port, '/api/index')).headers['content-security-policy']).toMatch(
      /^default-src 'none'; script-src 'self'; style-src 'self'/,
    );
    expect((await get(port, '/assets/dashboard.js')).status).toBe(404);
  });

  it('answers the index and a chart as JSON', async () => {
    const index = JSON.parse((await get(port, '/api/index')).body) as {
      runs: { name: string }[];
      charts: { metric: string }[];
    };
    expect(index.runs.map((r) => r.name)).toEqual(['a']);
    expect(index.charts.map((c) => c.metric)).toEqual(['loss', 'lr']);
    const chart = JSON.parse((await get(port, '/api/chart?metric=loss&width=100')).body) as {
      series: { label: string; y: number[] }[];
    };
    expect(chart.series.map((s) => [s.label, s.y.length])).toEqual([
      ['a · train', 20],
      ['a · eval', 1],
    ]);
    expect((await get(port, '/api/chart?metric=nope')).status).toBe(404);
  });

  it('answers a chart as float64 arrays when asked (the page does), equal to its JSON answer', async () => {
    const json: unknown = JSON.parse((await get(port, '/api/chart?metric=loss&width=100')).body);
    const response = await fetch(`http://127.0.0.1:${port}/api/chart?metric=loss&width=100&format=binary`);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(decodeChart(await response.arrayBuffer())).toEqual(json);
  });

  it('refuses path traversal: "..", percent-encoded "..", absolute paths and symlinks that lead out', async () => {
    expect((await get(port, '/files/runs/a/.codex/metrics.ndjson')).status).toBe(200);
    for (const attempt of [
      '/files/../secret.ndjson',
      '/files/runs/../../secret.ndjson',
      '/files/runs/%2e%2e/secret.ndjson',
      '/files/%2E%2E%2Fsecret.ndjson',
      '/files/runs%2f..%2f..%2fsecret.ndjson',
      `/files/${encodeURIComponent(path.join(dir, 'secret.ndjson'))}`,
      '/files/runs/a/%00.ndjson',
    ]) {
      const answer = await get(port, attempt);
      expect(answer.status, attempt).toBe(400);
      expect(answer.body).not.toContain('secret');
    }
    const symlink = await get(port, '/files/runs/a/escape.ndjson');
    expect(symlink.status).toBe(403);
    expect(symlink.body).not.toContain('"secret"');
    expect((await get(port, '/files/secret.ndjson')).status).toBe(403);
  });

  it('is read-only: every method but GET and HEAD is refused', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      expect((await get(port, '/api/index', { method })).status, method).toBe(405);
    }
    expect((await get(port, '/', { method: 'HEAD' })).status).toBe(200);
  });

  it('answers only to loopback Host names while bound to loopback (no DNS rebinding)', async () => {
    expect((await get(port, '/api/index', { host: 'evil.example:80' })).status).toBe(403);
    expect((await get(port, '/api/index', { host: `localhost:${port}` })).status).toBe(200);
  });

  it('takes the next free port when 6006 is taken', async () => {
    const blocker = createServer();
    const held = await new Promise<boolean>((resolve) => {
      blocker.once('error', () => resolve(false));
      blocker.listen({ host: '127.0.0.1', port: DEFAULT_PORT, exclusive: true }, () => resolve(true));
    });
    const other = await startDashboard({ inputs: [path.join(dir, 'runs')] });
    try {
      expect(other.port).toBeGreaterThan(DEFAULT_PORT);
      expect(other.url).toBe(`http://127.0.0.1:${other.port}/`);
    } finally {
      await other.close();
      if (held) blocker.close();
    }
  });

  it('parses the command line: inputs, --port, --host, -V, and usage errors', () => {
    expect(parseDashboardArgs([])).toMatchObject({ kind: 'serve', inputs: ['.codex'], port: undefined });
    expect(parseDashboardArgs(['runs', '--port', '0', '--host', '0.0.0.0'])).toMatchObject({
      kind: 'serve',
      inputs: ['runs'],
      port: 0,
      host: '0.0.0.0',
    });
    expect(parseDashboardArgs(['-V'])).toEqual({ kind: 'version' });
    expect(() => parseDashboardArgs(['--port', 'x'])).toThrow(
      /--port must be a whole number from 0 to 65535/,
    );
    expect(() => parseDashboardArgs(['--nope'])).toThrow(/unknown option --nope/);
  });

  it("refuses --port -1 once, in our words, instead of three copies of Node's parser text", () => {
    expect(() => parseDashboardArgs(['--port', '-1'])).toThrow(
      /^--port must be a whole number from 0 to 65535, got "-1"$/,
    );
  });
});
