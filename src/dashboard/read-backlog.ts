/**
 * Plans and runs the parallel first read of a stream's backlog. A big backlog (closed segments plus
 * the active file up to its last whole line) is cut into line-aligned byte ranges, about one per
 * core for each plain file (a gzip segment cannot be split and stays whole), and read by worker
 * threads. A run of 20 scalars × 1,000,000 steps is 2.7 GB of NDJSON: one thread parses it at about
 * 100 MB/s, so the first page waits on this read more than on anything else.
 */
import fs from 'node:fs';
import type { Segment } from '../ndjson/segments.js';
import { splitPoints, splitPointsOf, wholeLinesEnd } from '../ndjson/split-points.js';
import { defaultJobs, runPool, workersAvailable } from '../ndjson/worker-pool.js';
import type { BacklogRange, RangePart } from './backlog-range.js';

const WORKER_URL = new URL('./backlog-worker.js', import.meta.url);

/** Below this many bytes, starting workers costs more than they save (one thread reads 16 MB in ~0.15 s). */
export const PARALLEL_MIN_BYTES = 16 << 20;

export interface BacklogOptions {
  /** Worker threads; 1 reads in the calling thread. Default: the cores there are, at most 8. */
  jobs?: number;
  /** Backlog bytes from which workers read it; default PARALLEL_MIN_BYTES. */
  parallelMinBytes?: number;
  /**
   * Stream bytes read in this thread to bring run indexes up to date before the parallel reader
   * takes over (0: always the parallel reader; see index-backlog.ts).
   */
  indexCatchUpBytes?: number;
  /** Streams from this many bytes open from their run index; smaller ones are read whole. */
  indexMinBytes?: number;
  /** Non-system series from which an indexed stream opens as a catalog (catalog/open-catalog.ts). */
  catalogMinSeries?: number;
}

export interface ActiveBacklog {
  path: string;
  fd: number;
  size: number;
}

export interface BacklogPlan {
  /** In stream order: segments oldest first, then the active file. */
  ranges: BacklogRange[];
  /** Just past the active file's last whole line: where polling goes on. */
  activeEnd: number;
}

/** The ranges to read in workers; undefined when this thread should read it all. */
export function planBacklog(
  segments: readonly Segment[],
  active: ActiveBacklog | undefined,
  options: BacklogOptions,
): BacklogPlan | undefined {
  const jobs = options.jobs ?? defaultJobs();
  if (jobs < 2 || !workersAvailable(WORKER_URL)) return undefined;
  const sizes = segments.map((segment) => fs.statSync(segment.path).size);
  const total = sizes.reduce((a, b) => a + b, active?.size ?? 0);
  if (total < (options.parallelMinBytes ?? PARALLEL_MIN_BYTES)) return undefined;
  const ranges: BacklogRange[] = [];
  const add = (path: string, cuts: number[], gzip: boolean, fd?: number): void => {
    for (let c = 0; c + 1 < cuts.length; c++) {
      ranges.push({
        index: ranges.length,
        path,
        fd,
        start: cuts[c] as number,
        end: cuts[c + 1] as number,
        gzip,
      });
    }
  };
  segments.forEach((segment, i) => {
    const size = sizes[i] as number;
    add(segment.path, segment.gzip ? [0, size] : splitPoints(segment.path, size, jobs), segment.gzip);
  });
  // A file being written may end in half a line: the next poll finishes it.
  const activeEnd = active === undefined ? 0 : wholeLinesEnd(active.fd, active.size);
  if (active !== undefined && activeEnd > 0) {
    add(active.path, splitPointsOf(active.fd, activeEnd, jobs), false, active.fd);
  }
  return { ranges, activeEnd };
}

/** Reads the planned ranges in worker threads; the parts come back in range order. */
export function readBacklogParts(
  ranges: readonly BacklogRange[],
  options: BacklogOptions,
): Promise<RangePart[]> {
  return runPool<BacklogRange, RangePart>(WORKER_URL, ranges, options.jobs ?? defaultJobs());
}
