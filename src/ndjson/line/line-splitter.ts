/**
 * Splits a byte stream into lines across chunk boundaries, keeping the partial last line until its
 * newline arrives (a trainer may be mid-write). Lines are returned without the newline (and `\r`).
 */
export class LineSplitter {
  private partial: Buffer | undefined;

  /** Returns the complete lines in `chunk` (plus any partial line carried over). */
  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    let data = chunk;
    if (this.partial) {
      data = Buffer.concat([this.partial, chunk]);
      this.partial = undefined;
    }
    for (let newline = data.indexOf(10, start); newline !== -1; newline = data.indexOf(10, start)) {
      const end = newline > start && data[newline - 1] === 13 ? newline - 1 : newline;
      lines.push(data.subarray(start, end));
      start = newline + 1;
    }
    if (start < data.length) this.partial = Buffer.from(data.subarray(start));
    return lines;
  }

  /** Bytes of an unfinished line. */
  get pendingBytes(): number {
    return this.partial?.length ?? 0;
  }

  /** Drops the unfinished line (the file was truncated or replaced). Returns it, if any. */
  reset(): Buffer | undefined {
    const partial = this.partial;
    this.partial = undefined;
    return partial;
  }
}
