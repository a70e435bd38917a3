/**
 * Samples the resident memory of a process and all its descendants from /proc (Linux only), for
 * the every-point check: its TensorBoard and `wandb sync` steps start processes (a Rust data
 * server, wandb-core) whose peak no `time -v` of ours sees. Also watches MemAvailable, and stops
 * the tree when the machine runs short, since the machine is shared and TensorBoard's data server
 * alone was extrapolated to ~9 GB at 10M points per tag.
 */
import fs from 'node:fs';

export interface ProcessPeak {
  pid: number;
  command: string;
  peakRssBytes: number;
}

export interface MemoryReport {
  /** Per process of the tree (by pid), its highest sampled RSS. */
  processes: ProcessPeak[];
  /** The highest sampled sum of RSS over the whole tree. */
  peakTreeRssBytes: number;
  /** The lowest MemAvailable seen while sampling. */
  minAvailableBytes: number;
  /** Set when the watcher killed the tree because MemAvailable fell under the floor. */
  stoppedBecause: string | undefined;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // the process ended between the listing and the read
  }
}

function parentOf(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command (field 2) may hold spaces and parentheses: fields after its last ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[1]);
}

/** `root` and every process below it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const parent = parentOf(Number(name));
    if (parent === undefined) continue;
    const list = children.get(parent) ?? [];
    list.push(Number(name));
    children.set(parent, list);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []));
  return tree;
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readText(`/proc/${pid}/status`) ?? '');
  return match === null ? 0 : Number(match[1]) * 1024;
}

function commandOf(pid: number): string {
  const raw = readText(`/proc/${pid}/cmdline`) ?? '';
  return raw.split('\0').filter(Boolean).slice(0, 3).join(' ').slice(0, 160);
}

export function availableBytes(): number {
  const match = /MemAvailable:\s+(\d+) kB/.exec(readText('/proc/meminfo') ?? '');
  return match === null ? Number.POSITIVE_INFINITY : Number(match[1]) * 1024;
}

/** Samples `root`'s tree every `everyMs` until `stop()`; kills the tree below `floorBytes` available. */
export function watchMemory(
  root: number,
  options: { everyMs: number; floorBytes: number; skip?: (pid: number) => boolean },
): { stop(): MemoryReport } {
  const peaks = new Map<number, ProcessPeak>();
  let peakTreeRssBytes = 0;
  let minAvailableBytes = Number.POSITIVE_INFINITY;
  let stoppedBecause: string | undefined;
  const sample = (): void => {
    let sum = 0;
    const tree = processTree(root).filter((pid) => !(options.skip?.(pid) ?? false));
    for (const pid of tree) {
      const rss = rssBytes(pid);
      sum += rss;
      const peak = peaks.get(pid) ?? { pid, command: commandOf(pid), peakRssBytes: 0 };
      peak.peakRssBytes = Math.max(peak.peakRssBytes, rss);
      peaks.set(pid, peak);
    }
    peakTreeRssBytes = Math.max(peakTreeRssBytes, sum);
    const available = availableBytes();
    minAvailableBytes = Math.min(minAvailableBytes, available);
    if (available < options.floorBytes && stoppedBecause === undefined) {
      stoppedBecause = `MemAvailable ${(available / 2 ** 30).toFixed(2)} GiB fell under the ${(options.floorBytes / 2 ** 30).toFixed(1)} GiB floor`;
      // This process stays: it records what was reached. Its children go.
      for (const pid of tree.reverse().filter((pid) => pid !== process.pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  };
  sample();
  const timer = setInterval(sample, options.everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return {
        processes: [...peaks.values()].filter((peak) => peak.peakRssBytes > 0),
        peakTreeRssBytes,
        minAvailableBytes,
        stoppedBecause,
      };
    },
  };
}
