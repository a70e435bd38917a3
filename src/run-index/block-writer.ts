/**
 * Appends a reader's blocks to its index file (stream-index.ts): the one block of an open, or a
 * build's parts as it goes (`inParts`: a block is cut each time the builder holds
 * MAX_PART_RECORD_BYTES of finished records, at the start of the next line, and appended at once,
 * so a build holds at most that much of them, not the whole stream's: 134 MB at a million one-row
 * names, 60 MB at 20 scalars × 1,000,000 steps). A write that fails for want of room or rights is
 * said once; a build goes on cutting its parts (its memory stays bounded) but writes nothing more.
 */
import { errnoCode, errorText } from '../errors.js';
import type { IndexBlock } from './index-builder.js';
import { IndexFile } from './index-file.js';

/**
 * Finished records a build that writes in parts holds at most before it cuts a block (16 MiB:
 * about 116,000 buckets, the index of 7.4 million dense rows). A stream whose index is smaller is
 * written as one block, as before.
 */
export const MAX_PART_RECORD_BYTES = 16 << 20;

/** Errors of an index that cannot be written where it is: the stream is read, only slower next time. */
const UNWRITABLE = new Set(['EACCES', 'EROFS', 'ENOSPC', 'EPERM', 'EDQUOT']);

export class BlockWriter {
  /** Blocks appended. */
  parts = 0;
  /** Set once a write failed: nothing more is written, and the index is not kept. */
  failed = false;
  private readonly file: IndexFile;

  /**
   * @param target the index file; `validBytes` of it are kept (0: a new file)
   * @param stream the stream, for the warning
   * @param streamFd the stream, open, for the header's and each block's hashes (undefined: a gzip
   *   segment, closed for good, whose blocks carry none)
   */
  constructor(
    readonly target: string,
    validBytes: number,
    private readonly stream: string,
    private readonly streamFd: number | undefined,
    private readonly onWarning: ((message: string) => void) | undefined,
  ) {
    this.file = new IndexFile(target, validBytes);
  }

  /** Appends `block`; false when the index cannot be written (said once, through onWarning). */
  append(block: IndexBlock): boolean {
    if (this.failed) return false;
    try {
      this.file.appendThrough(this.streamFd, block);
      this.parts++;
      return true;
    } catch (error) {
      if (!UNWRITABLE.has(errnoCode(error) ?? '')) throw error;
      this.failed = true;
      this.onWarning?.(
        `cannot keep an index of ${this.stream} at ${this.target} (${errorText(error)}); it is read in full next time`,
      );
      return false;
    }
  }

  close(): void {
    this.file.close();
  }
}
