/** A hint of the CLI names the flag the user typed, not the environment variable behind it. */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingName } from '../../src/config/setting-name.js';
import { spawnAsync } from '../helpers/spawn-async.js';

const BIN = fileURLToPath(new URL('../../dist/src/cli/codex-telemetry.js', import.meta.url));
const built = fs.existsSync(BIN);
if (process.env.CI && !built) throw new Error('the hint tests need npm run build');

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-hints-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function demo(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnAsync(
    process.execPath,
    [
      BIN,
      'demo',
      '--steps',
      '3',
      '--step-delay-ms',
      '0',
      '--no-tensorboard',
      '--no-wandb',
      '--out',
      dir,
      ...args,
    ],
    { env: { PATH: process.env.PATH, CODEX_SYSTEM_METRICS_INTERVAL: '0', ...env }, timeout: 60_000 },
  );
}

describe.runIf(built)('hints of the CLI', () => {
  it('says --no-gpu, not "unset CODEX_MONITORING_ENABLE_GPU", when --gpu finds no NVML', async () => {
    const result = await demo(['--gpu', '--system-metrics-interval', '1', '--no-prometheus'], {
      CODEX_NVML_LIBRARY: path.join(dir, 'no-such-libnvidia-ml.so'),
    });
    const output = `${result.stdout}${result.stderr}`;
    expect(output).toMatch(/turn GPU sampling off with --no-gpu/);
    expect(output).not.toMatch(/unset CODEX_MONITORING_ENABLE_GPU/);
  });

  it('names --prometheus-port, not OTEL_EXPORTER_PROMETHEUS_PORT, when the port is busy', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const result = await demo(['--prometheus-port', String(port)]);
      const output = `${result.stdout}${result.stderr}`;
      expect(output).toMatch(/choose another port with --prometheus-port \(0 = any free port\)/);
      expect(output).not.toMatch(/OTEL_EXPORTER_PROMETHEUS_PORT/);
    } finally {
      blocker.close();
    }
  });
});

describe('hints of the library', () => {
  it('name the config field and its environment variable for a program calling startTelemetry', () => {
    expect(settingName('prometheusPort')).toBe('prometheusPort (OTEL_EXPORTER_PROMETHEUS_PORT)');
    expect(settingName('monitoringEnableGpu', true)).toBe(
      'monitoringEnableGpu: false (CODEX_MONITORING_ENABLE_GPU=0)',
    );
  });
});
