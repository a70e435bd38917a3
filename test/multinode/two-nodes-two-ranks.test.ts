/**
 * A 2-node x 2-rank job simulated on one machine. As root, each node runs its ranks in a network
 * namespace of its own, joined to a bridge by a veth pair, with an address of its own; otherwise
 * each node gets its own loopback address (127.0.0.2, 127.0.0.3). Either way both nodes use the same
 * ports, as real nodes would (test/helpers/simulated-nodes.ts; the output says which variant ran).
 * The node name comes from OTEL_RESOURCE_ATTRIBUTES=host.name=..., since the simulated nodes share
 * one kernel host name. Every rank runs `codex-telemetry run` around a small trainer, writes its
 * Prometheus file_sd entry into one shared folder and pushes OTLP/gRPC to one receiver built on the
 * official opentelemetry-proto classes. A real Prometheus discovers the ranks through the folder,
 * and the queries a user would run give back the values the trainers logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, PrometheusServer, requireBinary } from '../helpers/prometheus-server.js';
import { pointsOf, PythonOtlpReceiver, requireOtlpPython } from '../helpers/python-otlp-receiver.js';
import { assertNodesReach, simulateNodes, type SimulatedNode } from '../helpers/simulated-nodes.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/codex-telemetry.js', import.meta.url));
const TRAINER = fileURLToPath(new URL('../fixtures/children/rank-trainer.mjs', import.meta.url));
const RUN_ID = 'mnjob7';
const STEPS = 40;
const NODE_NAMES = ['node1', 'node2'];
const RANKS_PER_NODE = 2;
const WORLD = NODE_NAMES.length * RANKS_PER_NODE;

const lastLoss = (rank: number): number => 2 / STEPS + rank / 8;

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface RankProcess {
  rank: number;
  child: ChildProcess;
  exit: Promise<number | null>;
  output: () => string;
}

function startRank(options: {
  rank: number;
  localRank: number;
  node: SimulatedNode;
  port: number;
  dir: string;
  sdDir: string;
  otlpUrl: string;
  release: string;
}): RankProcess {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // A proxy from the environment would carry gRPC to 10.x or 127.0.0.N through itself (grpc-js
    // reads grpc_proxy, https_proxy and http_proxy): the ranks talk to the test's own receiver.
    if (/^(grpc|https?|all)_proxy$/i.test(key)) continue;
    if (!key.startsWith('OTEL_') && !key.startsWith('CODEX_')) env[key] = value;
  }
  Object.assign(env, {
    RANK: String(options.rank),
    LOCAL_RANK: String(options.localRank),
    WORLD_SIZE: String(WORLD),
    CODEX_RUN_ID: RUN_ID,
    OTEL_RESOURCE_ATTRIBUTES: `host.name=${options.node.name}`,
    OTEL_EXPORTER_PROMETHEUS_HOST: options.node.address,
    OTEL_EXPORTER_PROMETHEUS_PORT: String(options.port),
    CODEX_PROMETHEUS_SD_FILE: options.sdDir,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpUrl,
    OTEL_METRIC_EXPORT_INTERVAL: '500',
    TRAIN_STEPS: String(STEPS),
    RELEASE_FILE: options.release,
  });
  const out = path.join(options.dir, `${options.node.name}-local${options.localRank}`);
  const [command, ...args] = options.node.command([
    process.execPath,
    CLI,
    'run',
    '--out',
    out,
    '--system-metrics-interval',
    '0.5',
    '--no-tensorboard',
    '--no-wandb',
    '--',
    process.execPath,
    TRAINER,
  ]) as [string, ...string[]];
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { rank: options.rank, child, exit, output: () => output };
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a 2-node x 2-rank job', () => {
  it('is discovered through file_sd, scraped by a real Prometheus and pushed over OTLP with per-rank and per-node labels', async ({
    skip,
  }) => {
    const binary = requireBinary('prometheus', skip);
    requireOtlpPython(skip);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'codex-multinode-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const sdDir = path.join(dir, 'targets');
    mkdirSync(sdDir);
    const release = path.join(dir, 'release');

    const network = simulateNodes(NODE_NAMES);
    cleanups.push(() => network.remove());
    console.info(`multinode: ${network.variant} (${network.reason})`);
    const nodes = network.nodes;

    // The receiver listens where every node reaches it: across the links in the namespace variant.
    const receiver = await PythonOtlpReceiver.start({ dir, host: network.serverAddress });
    cleanups.push(() => receiver.stop());
    assertNodesReach(network, receiver.host, receiver.grpcPort);
    const prometheus = await PrometheusServer.start({
      binary,
      dir: path.join(dir, 'prometheus'),
      targets: [],
      fileSd: [path.join(sdDir, '*.json')],
      job: 'codex-telemetry',
    });
    cleanups.push(() => prometheus.stop());

    // The same base port on both nodes: local rank k serves port + k on its node's address.
    const port = await freePort();
    const ranks: RankProcess[] = [];
    for (const [nodeIndex, node] of nodes.entries()) {
      for (let localRank = 0; localRank < RANKS_PER_NODE; localRank++) {
        const rank = nodeIndex * RANKS_PER_NODE + localRank;
        ranks.push(
          startRank({ rank, localRank, node, port, dir, sdDir, otlpUrl: receiver.grpcUrl, release }),
        );
      }
    }

    // Each rank runs on its node: in the namespace variant, inside that node's namespace (`ip netns
    // exec` replaces itself with the command, so the PID we hold is the rank's).
    expect(ranks.map((r) => network.namespaceOf(r.child.pid as number))).toEqual(
      ranks.map((r) => nodes[Math.floor(r.rank / RANKS_PER_NODE)]?.namespace ?? ''),
    );

    // Every rank writes its own entry: its address, run_id, rank, local_rank, world_size and node.
    await until(
      '4 file_sd entries',
      () => readdirSync(sdDir).filter((f) => f.endsWith('.json')).length === WORLD,
    );
    const entries = readdirSync(sdDir)
      .sort()
      .map(
        (file) =>
          JSON.parse(readFileSync(path.join(sdDir, file), 'utf8')) as Array<{
            targets: string[];
            labels: Record<string, string>;
          }>,
      );
    expect(entries.map((entry) => entry[0])).toEqual(
      [0, 1, 2, 3].map((rank) => {
        const node = nodes[Math.floor(rank / RANKS_PER_NODE)] as SimulatedNode;
        return {
          targets: [`${node.address}:${port + (rank % RANKS_PER_NODE)}`],
          labels: {
            run_id: RUN_ID,
            rank: String(rank),
            local_rank: String(rank % RANKS_PER_NODE),
            world_size: String(WORLD),
            node: node.name,
          },
        };
      }),
    );

    // Prometheus scrapes all four through the folder.
    await prometheus.waitFor(
      `loss{run_id="${RUN_ID}",phase="train"}`,
      (samples) =>
        samples.length === WORLD && samples.every((s) => s.value === lastLoss(Number(s.metric.rank))),
      60_000,
    );
    const average = await prometheus.query(`avg by (run_id) (loss{phase="train"})`);
    expect(average).toHaveLength(1);
    expect(average[0]?.metric).toEqual({ run_id: RUN_ID });
    expect(average[0]?.value).toBeCloseTo((lastLoss(0) + lastLoss(1) + lastLoss(2) + lastLoss(3)) / 4, 12);
    const rank3 = await prometheus.query(`loss{rank="3"}`);
    expect(rank3.map((s) => [s.metric.node, s.metric.local_rank, s.value])).toEqual([
      ['node2', '1', lastLoss(3)],
    ]);
    const perNode = await prometheus.query(`max by (node) (loss)`);
    expect(Object.fromEntries(perNode.map((s) => [s.metric.node, s.value]))).toEqual({
      node1: lastLoss(1),
      node2: lastLoss(3),
    });

    // System metrics come only from each node's local rank 0, labelled with the node.
    const load = await prometheus.waitFor(
      'system_cpu_load_average_1m',
      (samples) => samples.length === nodes.length,
      30_000,
    );
    expect(load.map((s) => [s.metric.node, s.metric.rank, s.metric.local_rank]).sort()).toEqual([
      ['node1', '0', '0'],
      ['node2', '2', '0'],
    ]);
    const loadavg = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    for (const sample of load) expect(Math.abs(sample.value - loadavg)).toBeLessThan(5);
    expect(await prometheus.query('count by (node) (system_cpu_load_average_1m)')).toHaveLength(2);

    // OTLP: all four ranks pushed to the one receiver, each its own service.instance.id.
    await receiver.waitFor((requests) => {
      const seen = new Set(
        requests.flatMap((request) =>
          pointsOf(request.request).map((p) => p.resource['service.instance.id']),
        ),
      );
      return seen.size === WORLD;
    });
    const lastByInstance = new Map<string, ReturnType<typeof pointsOf>>();
    for (const request of receiver.accepted()) {
      const points = pointsOf(request.request);
      const instance = points[0]?.resource['service.instance.id'];
      if (typeof instance === 'string') lastByInstance.set(instance, points);
    }
    for (let rank = 0; rank < WORLD; rank++) {
      const points = lastByInstance.get(`${RUN_ID}-${rank}`) ?? [];
      const node = nodes[Math.floor(rank / RANKS_PER_NODE)] as SimulatedNode;
      expect(points[0]?.resource).toMatchObject({
        run_id: RUN_ID,
        rank,
        local_rank: rank % RANKS_PER_NODE,
        world_size: WORLD,
        'host.name': node.name,
      });
      expect(points.find((p) => p.metric === 'loss')?.value).toBe(lastLoss(rank));
      const system = points.filter((p) => p.metric.startsWith('system.'));
      if (rank % RANKS_PER_NODE === 0) expect(system.length).toBeGreaterThan(0);
      else expect(system).toEqual([]);
    }

    // The run ends: every rank exits 0 and removes its entry, so Prometheus drops the targets.
    writeFileSync(release, '');
    const codes = await Promise.all(ranks.map((r) => r.exit));
    expect(codes, ranks.map((r) => r.output()).join('\n---\n')).toEqual([0, 0, 0, 0]);
    expect(readdirSync(sdDir)).toEqual([]);
    await prometheus.waitFor('up{job="codex-telemetry"}', (samples) => samples.length === 0, 30_000);
  }, 180_000);
});
