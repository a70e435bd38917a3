/**
 * Splits a buffer of whole lines into lines, without their newline (and `\r`): the lines a
 * follower hands on (../stream-follower.ts), one Buffer view each, nothing copied.
 */
const NEWLINE = 0x0a;
const CR = 0x0d;

/** The lines of `buf[0, end)`; `end` is just past a newline, or the end of an unterminated last line. */
export function splitLines(buf: Buffer, end: number): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  while (start < end) {
    let newline = buf.indexOf(NEWLINE, start);
    if (newline < 0 || newline >= end) newline = end;
    const stop = newline > start && buf[newline - 1] === CR ? newline - 1 : newline;
    lines.push(buf.subarray(start, stop));
    start = newline + 1;
  }
  return lines;
}
