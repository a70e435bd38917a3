/**
 * End to end through a real Prometheus: the telemetry pipeline serves /metrics, Debian's
 * `prometheus` scrapes it every second, and its HTTP API must answer with the values we logged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry, type Telemetry } from '../../../src/telemetry.js';
import {
  PrometheusServer,
  requireBinary,
  runPromtool,
  type PromSample,
} from '../../helpers/prometheus-server.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function single(samples: PromSample[]): number | undefined {
  return samples.length === 1 ? samples[0]?.value : undefined;
}

describe('Prometheus scraping a running telemetry pipeline', () => {
  it('sees training scalars, counters, step-time buckets, sink health and target_info with the logged values', async (ctx) => {
    const prometheusBin = requireBinary('prometheus', ctx.skip);
    const promtoolBin = requireBinary('promtool', ctx.skip, 'prometheus');
    const dir = mkdtempSync(path.join(tmpdir(), 'codex-prom-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

    const infoLines: string[] = [];
    const warnings: string[] = [];
    const telemetry: Telemetry = await startTelemetry(
      {
        runId: 'promtest1',
        serviceName: 'codex-prom-test',
        outDir: dir,
        prometheus: true,
        prometheusPort: 0,
        systemMetricsInterval: 0.2,
        installExitHandlers: false,
      },
      { env: {}, warn: (m) => warnings.push(m), info: (l) => infoLines.push(l) },
    );
    cleanups.push(() => telemetry.shutdown());

    const printed = infoLines.find((line) => line.startsWith('metrics: '));
    const match = /^metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics$/.exec(printed ?? '');
    expect(match, `info lines: ${JSON.stringify(infoLines)}`).not.toBeNull();
    const port = Number(match?.[1]);
    expect(port).toBeGreaterThan(0);

    telemetry.log({ loss: 0.5, lr: 0.001 }, { step: 1 });
    telemetry.log({ loss: 0.25, lr: 0.002 }, { step: 2 });
    telemetry.evaluation().log({ accuracy: 0.75 }, { step: 2 });

    const prometheus = await PrometheusServer.start({
      binary: prometheusBin,
      dir,
      targets: [`127.0.0.1:${port}`],
      scrapeIntervalSeconds: 1,
    });
    cleanups.push(() => prometheus.stop());

    await prometheus.waitFor('up{job="codex"}', (s) => single(s) === 1);
    await prometheus.waitFor('loss{phase="train"}', (s) => single(s) === 0.25);
    expect(single(await prometheus.query('lr{phase="train"}'))).toBe(0.002);
    expect(single(await prometheus.query('accuracy{phase="eval"}'))).toBe(0.75);
    expect(single(await prometheus.query('codex_steps_total{phase="train"}'))).toBe(2);
    expect(single(await prometheus.query('codex_steps_total{phase="eval"}'))).toBe(1);
    expect(single(await prometheus.query('codex_step'))).toBe(2);
    expect(single(await prometheus.query('codex_sink_up{sink="prometheus"}'))).toBe(1);
    // Two training steps make one step interval; the seconds buckets must include +Inf and be cumulative.
    expect(single(await prometheus.query('codex_step_duration_count'))).toBe(1);
    const buckets = await prometheus.query('codex_step_duration_bucket');
    expect(buckets.map((b) => b.metric.le)).toContain('0.001');
    expect(buckets.find((b) => b.metric.le === '+Inf')?.value).toBe(1);
    const target = await prometheus.query('target_info{codex_run_id="promtest1"}');
    expect(target).toHaveLength(1);
    expect(target[0]?.metric).toMatchObject({
      service_name: 'codex-prom-test',
      codex_rank: '0',
      codex_world_size: '1',
    });
    expect(target[0]?.metric.host_name).toBeTruthy();
    // System metrics from the sampler arrive under their semantic-convention names.
    await prometheus.waitFor('process_memory_usage', (s) => (s[0]?.value ?? 0) > 1e6);
    const memoryLimit = single(await prometheus.query('system_memory_limit'));
    const sample = telemetry.systemSampler?.latest();
    expect(memoryLimit).toBe(sample?.values.ram_total_bytes);
    const utilization = single(await prometheus.query('system_memory_utilization'));
    expect(utilization).toBeGreaterThan(0);
    expect(utilization).toBeLessThan(1);
    const modes = (await prometheus.query('system_cpu_utilization')).map((s) => s.metric['cpu_mode']);
    expect(modes).toEqual(expect.arrayContaining(['user', 'system', 'idle']));
    // Scalar series carry only their small fixed label set: no step, no scope labels.
    const loss = await prometheus.query('loss');
    expect(Object.keys(loss[0]?.metric ?? {}).sort()).toEqual(['__name__', 'instance', 'job', 'phase']);

    const scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const checked = runPromtool(promtoolBin, ['check', 'metrics'], scrape);
    expect({ status: checked.status, output: checked.stdout + checked.stderr }).toEqual({
      status: 0,
      output: '',
    });

    const pid = prometheus.pid;
    await prometheus.stop();
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(warnings).toEqual([]);
  });
});
