/**
 * Line-aligned cut points that let several worker threads read one plain NDJSON file, each its own
 * byte range: every cut sits just past a newline, so no line is split between two readers.
 */
import fs from 'node:fs';

const SPLIT_SCAN_BYTES = 64 << 10;

/** Line-aligned cut points splitting `path`'s first `size` bytes into about `parts` ranges. */
export function splitPoints(path: string, size: number, parts: number): number[] {
  const fd = fs.openSync(path, 'r');
  try {
    return splitPointsOf(fd, size, parts);
  } finally {
    fs.closeSync(fd);
  }
}

/** The same, through a descriptor already open (a file that may be renamed meanwhile). */
export function splitPointsOf(fd: number, size: number, parts: number): number[] {
  const cuts = [0];
  const probe = Buffer.allocUnsafe(SPLIT_SCAN_BYTES);
  for (let i = 1; i < parts; i++) {
    let at = Math.max(Math.floor((size * i) / parts), cuts[cuts.length - 1] as number);
    for (;;) {
      const n = fs.readSync(fd, probe, 0, Math.min(probe.length, size - at), at);
      if (n === 0) {
        at = size;
        break;
      }
      const newline = probe.subarray(0, n).indexOf(0x0a);
      if (newline !== -1) {
        at += newline + 1;
        break;
      }
      at += n;
    }
    if (at < size && at > (cuts[cuts.length - 1] as number)) cuts.push(at);
  }
  cuts.push(size);
  return cuts;
}

/**
 * Where the last whole line of `fd`'s first `size` bytes ends (0 when there is none): a file being
 * written may end in half a line, which the next read finishes.
 */
export function wholeLinesEnd(fd: number, size: number): number {
  const probe = Buffer.allocUnsafe(SPLIT_SCAN_BYTES);
  let end = size;
  while (end > 0) {
    const from = Math.max(0, end - probe.length);
    const n = fs.readSync(fd, probe, 0, end - from, from);
    const newline = probe.subarray(0, n).lastIndexOf(0x0a);
    if (newline !== -1) return from + newline + 1;
    end = from;
  }
  return 0;
}
