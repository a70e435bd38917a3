/**
 * Reads a /proc file into a reused buffer. /proc files report size 0, so readFileSync would stat,
 * then grow its buffer while reading; one shared buffer keeps a sample to a few small allocations.
 */
import fs from 'node:fs';

let buffer = Buffer.allocUnsafe(64 * 1024);

export function readProcText(path: string): string {
  const fd = fs.openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        // /proc/stat on a many-core host with many interrupts can pass 64 KiB.
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const read = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return buffer.toString('latin1', 0, length);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads at most `max` bytes: enough for the first lines of a file too costly to read whole. */
export function readProcHead(path: string, max: number): string {
  const fd = fs.openSync(path, 'r');
  try {
    const head = Buffer.allocUnsafe(max);
    const read = fs.readSync(fd, head, 0, max, null);
    return head.toString('latin1', 0, read);
  } finally {
    fs.closeSync(fd);
  }
}
