/**
 * Simulated nodes for the multi-node test, on one machine. As root, each node gets its own
 * network namespace, joined to a bridge in the test's own namespace by a veth pair, with an address
 * of its own; the test's servers listen on the bridge's address, so every packet between a rank and
 * the receiver or Prometheus crosses a link, and every node can serve the same port. Otherwise each
 * node gets its own loopback address (127.0.0.N), which still lets the nodes share a port.
 *
 * Namespaces and links carry a random tag of this run in their names; `remove()` deletes exactly
 * those, and setup that fails half-way deletes what it had made before it throws.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { findBinary } from './prometheus-server.js';

export type NodeNetworkVariant = 'network namespaces' | 'loopback addresses';

export interface SimulatedNode {
  name: string;
  /** The node's own address: its ranks bind it, Prometheus scrapes it. */
  address: string;
  /** The network namespace the node's ranks run in (namespace variant only). */
  namespace?: string;
  /** The argv that runs `argv` on this node. */
  command(argv: string[]): string[];
}

export interface SimulatedNetwork {
  variant: NodeNetworkVariant;
  /** Why this variant ran: one line for the test's output. */
  reason: string;
  /** Where the test's servers listen so that every node reaches them. */
  serverAddress: string;
  nodes: SimulatedNode[];
  /** The named network namespace a process runs in ('' for the test's own). */
  namespaceOf(pid: number): string;
  /** Deletes every namespace and link this run made (nothing else); safe to call twice. */
  remove(): void;
}

/**
 * Throws, naming each node that cannot open a TCP connection to `host:port` from where its ranks
 * run: a broken link then fails the test at once with the reason, not as a query that stays empty.
 */
export function assertNodesReach(network: SimulatedNetwork, host: string, port: number): void {
  const connect = [
    "const socket = require('node:net').connect({ host: process.argv[1], port: Number(process.argv[2]) });",
    "socket.setTimeout(5000, () => { console.error('timed out after 5 s'); process.exit(1); });",
    "socket.on('connect', () => { socket.end(); process.exit(0); });",
    "socket.on('error', (error) => { console.error(error.code ?? error.message); process.exit(1); });",
  ].join('\n');
  const failures: string[] = [];
  for (const node of network.nodes) {
    const [command, ...args] = node.command([process.execPath, '-e', connect, host, String(port)]) as [
      string,
      ...string[],
    ];
    const result = spawnSync(command, args, { encoding: 'utf8', timeout: 15_000 });
    if (result.error) throw result.error;
    if (result.status !== 0) {
      failures.push(`${node.name} (${node.namespace ?? node.address}): ${result.stderr.trim()}`);
    }
  }
  if (failures.length > 0) {
    throw new Error(
      `simulated nodes cannot reach ${host}:${port} (${network.variant}; ${network.reason}): ${failures.join('; ')}`,
    );
  }
}

/** `CODEX_TEST_NODE_NETWORK=loopback` runs the loopback variant even as root (not in CI). */
const FORCE_ENV = 'CODEX_TEST_NODE_NETWORK';

/**
 * The namespace variant when the process is root and the kernel lets it make namespaces; the
 * loopback variant otherwise. In CI as root the namespace variant must run: a refusal throws.
 */
export function simulateNodes(names: string[]): SimulatedNetwork {
  const root = process.getuid?.() === 0;
  const forced = process.env[FORCE_ENV];
  if (forced !== undefined && forced !== 'loopback' && forced !== 'namespaces') {
    throw new Error(`${FORCE_ENV} must be "loopback" or "namespaces", not ${JSON.stringify(forced)}`);
  }
  const mustUseNamespaces = (root && process.env.CI !== undefined) || forced === 'namespaces';
  if (forced === 'loopback') {
    if (mustUseNamespaces) {
      throw new Error(`${FORCE_ENV}=loopback: CI runs as root, and there the namespace variant must run`);
    }
    return loopbackNodes(names, `${FORCE_ENV}=loopback`);
  }
  if (!root && !mustUseNamespaces) return loopbackNodes(names, 'not root');
  try {
    return namespaceNodes(names);
  } catch (error) {
    if (mustUseNamespaces) {
      throw new Error(
        `the multi-node test must run in network namespaces here (root${process.env.CI === undefined ? '' : ', CI'}), ` +
          `and they could not be set up: ${(error as Error).message}`,
      );
    }
    return loopbackNodes(names, `network namespaces refused: ${(error as Error).message}`);
  }
}

function loopbackNodes(names: string[], reason: string): SimulatedNetwork {
  return {
    variant: 'loopback addresses',
    reason,
    serverAddress: '127.0.0.1',
    nodes: names.map((name, index) => ({
      name,
      address: `127.0.0.${index + 2}`,
      command: (argv) => argv,
    })),
    namespaceOf: () => '',
    remove: () => undefined,
  };
}

function namespaceNodes(names: string[]): SimulatedNetwork {
  // Debian keeps `ip` in /usr/sbin, which a PATH may leave out.
  const ip = findBinary('ip') ?? ['/usr/sbin/ip', '/sbin/ip'].find((candidate) => existsSync(candidate));
  if (ip === undefined) throw new Error('no `ip` command (apt-get install -y iproute2)');
  // Interface names hold at most 15 bytes: "cxn" + 6 tag characters + "b" / "h<i>" / "n<i>".
  const tag = randomBytes(4).toString('hex').slice(0, 6);
  const subnet = freeSubnet(ip);
  const bridge = `cxn${tag}b`;
  const nodes = names.map((name, index) => ({
    name,
    address: `${subnet}.${index + 2}`,
    namespace: `codex-multinode-${tag}-${name}`,
    hostEnd: `cxn${tag}h${index}`,
    nodeEnd: `cxn${tag}n${index}`,
  }));

  const made: Array<() => void> = [];
  const remove = (): void => {
    const failures: string[] = [];
    for (const undo of made.splice(0).reverse()) {
      try {
        undo();
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    if (failures.length > 0) throw new Error(`cleanup left something behind: ${failures.join('; ')}`);
  };
  try {
    run(ip, ['link', 'add', bridge, 'type', 'bridge']);
    made.push(() => deleteLink(ip, bridge));
    run(ip, ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
    run(ip, ['link', 'set', bridge, 'up']);
    for (const node of nodes) {
      run(ip, ['netns', 'add', node.namespace]);
      made.push(() => deleteNamespace(ip, node.namespace));
      run(ip, [
        'link',
        'add',
        node.hostEnd,
        'type',
        'veth',
        'peer',
        'name',
        node.nodeEnd,
        'netns',
        node.namespace,
      ]);
      // Deleting one end deletes the pair, even while a process still holds the namespace open.
      made.push(() => deleteLink(ip, node.hostEnd));
      run(ip, ['link', 'set', node.hostEnd, 'master', bridge, 'up']);
      run(ip, ['-n', node.namespace, 'addr', 'add', `${node.address}/24`, 'dev', node.nodeEnd]);
      run(ip, ['-n', node.namespace, 'link', 'set', node.nodeEnd, 'up']);
      run(ip, ['-n', node.namespace, 'link', 'set', 'lo', 'up']);
    }
  } catch (error) {
    try {
      remove();
    } catch (cleanupError) {
      throw new Error(`${(error as Error).message}; then ${(cleanupError as Error).message}`);
    }
    throw error;
  }
  return {
    variant: 'network namespaces',
    reason: `root; bridge ${bridge} at ${subnet}.1, ${nodes.map((n) => `${n.name} ${n.address} in ${n.namespace}`).join(', ')}`,
    serverAddress: `${subnet}.1`,
    nodes: nodes.map((node) => ({
      name: node.name,
      address: node.address,
      namespace: node.namespace,
      command: (argv) => [ip, 'netns', 'exec', node.namespace, ...argv],
    })),
    namespaceOf: (pid) => run(ip, ['netns', 'identify', String(pid)]).trim(),
    remove,
  };
}

/** A 10.x.y /24 that no address or route on this machine touches yet (first three octets). */
function freeSubnet(ip: string): string {
  const inUse = run(ip, ['-4', '-o', 'addr', 'show']) + run(ip, ['-4', 'route', 'show', 'table', 'all']);
  for (let attempt = 0; attempt < 50; attempt++) {
    const [second = 0, third = 0] = randomBytes(2);
    const subnet = `10.${200 + (second % 50)}.${third}`;
    if (!inUse.includes(` ${subnet}.`) && !inUse.includes(`\n${subnet}.`) && !inUse.startsWith(`${subnet}.`))
      return subnet;
  }
  throw new Error('no free 10.200-249.x.0/24 subnet for the simulated nodes');
}

function run(ip: string, args: string[]): string {
  const result = spawnSync(ip, args, { encoding: 'utf8', timeout: 10_000 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(
      `ip ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr.trim()}`,
    );
  }
  return result.stdout;
}

/** Deletes a link; one already gone (its pair's other end went first) is not an error. */
function deleteLink(ip: string, name: string): void {
  const result = spawnSync(ip, ['link', 'del', name], { encoding: 'utf8', timeout: 10_000 });
  if (result.error) throw result.error;
  if (result.status !== 0 && !/Cannot find device/.test(result.stderr)) {
    throw new Error(`ip link del ${name} failed: ${result.stderr.trim()}`);
  }
}

function deleteNamespace(ip: string, name: string): void {
  run(ip, ['netns', 'del', name]);
}
