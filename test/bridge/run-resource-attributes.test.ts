import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const CLI = path.resolve('dist/src/cli/codex-telemetry.js');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('codex-telemetry run', () => {
  it('honours OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME on the /metrics it serves', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-run-resource-'));
    dirs.push(out);
    const port = await freePort();
    // The trainer scrapes the bridge's endpoint while it runs and prints what it got.
    const trainer = `
      for (let i = 0; i < 100; i++) {
        try {
          const body = await (await fetch('http://127.0.0.1:${port}/metrics')).text();
          process.stdout.write(body);
          process.exit(0);
        } catch { await new Promise((r) => setTimeout(r, 100)); }
      }
      process.exit(3);`;
    const result = spawnSync(
      process.execPath,
      [
        CLI,
        'run',
        '--out',
        out,
        '--prometheus-port',
        String(port),
        '--no-tensorboard',
        '--no-wandb',
        '--',
        process.execPath,
        '--input-type=module',
        '-e',
        trainer,
      ],
      {
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          ...process.env,
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=ci,team=ml%20infra',
          OTEL_SERVICE_NAME: 'trainer-svc',
        },
      },
    );
    expect(result.status, result.stderr).toBe(0);
    const targetInfo = result.stdout.split('\n').find((line) => line.startsWith('target_info{'));
    expect(targetInfo).toBeDefined();
    expect(targetInfo).toContain('deployment_environment="ci"');
    expect(targetInfo).toContain('team="ml infra"');
    expect(targetInfo).toContain('service_name="trainer-svc"');
  });
});
