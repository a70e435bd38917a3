/**
 * Follows one NDJSON file like `tail -F`: waits for it to exist, reads what is appended in large
 * chunks, and survives truncation (starts again at 0) and rotation (reads the old file to its end,
 * then continues with the new file at that path). Stat-polling, because inotify events do not
 * survive renames across NFS and Lustre, where checkpoints and logs often live.
 */
import fs from 'node:fs';
import { errnoCode } from '../errors.js';
import { LineSplitter } from '../ndjson/line/line-splitter.js';

const CHUNK_BYTES = 1 << 20;
/** Bytes of the file's start remembered to notice a truncate-and-rewrite that outgrew our offset
 * between two polls (a size check alone misses it). */
const HEAD_BYTES = 256;

export interface FollowedLines {
  file: string;
  /** 1-based line number of `lines[0]` within the current file. */
  firstLine: number;
  lines: Buffer[];
}

export interface FileFollowerOptions {
  path: string;
  /** Replay what the file already holds (otherwise start at its current end). */
  fromStart: boolean;
  onLines: (batch: FollowedLines) => void | Promise<void>;
  /** A truncation or rotation happened; `partial` is an unfinished line that was dropped. */
  onReset?: (event: { file: string; kind: 'truncated' | 'rotated'; partialBytes: number }) => void;
  /** The file does not exist yet; called once, the first time it is found missing. */
  onMissing?: (file: string) => void;
}

export class FileFollower {
  readonly path: string;
  private readonly options: FileFollowerOptions;
  private readonly splitter = new LineSplitter();
  private handle: fs.promises.FileHandle | undefined;
  private inode: number | undefined;
  private position = 0;
  private lineNumber = 0;
  private started = false;
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private head: Buffer | undefined;
  private missingReported = false;

  constructor(options: FileFollowerOptions) {
    this.path = options.path;
    this.options = options;
  }

  /** Reads everything available now; call repeatedly to follow. Returns bytes read. */
  async poll(): Promise<number> {
    let total = 0;
    if (!this.handle && !(await this.open())) return 0;
    if (await this.rewritten()) this.restart();
    total += await this.readToEnd();
    const current = await statOrUndefined(this.path);
    if (current === undefined || current.ino !== this.inode) {
      // Rotated away (or removed): the old file is complete; continue with whatever is at the path now.
      total += await this.readToEnd();
      const partial = this.splitter.reset();
      await this.close();
      this.options.onReset?.({ file: this.path, kind: 'rotated', partialBytes: partial?.length ?? 0 });
      if (current !== undefined && (await this.open(true))) total += await this.readToEnd();
    } else if (current.size < this.position) {
      this.restart();
      total += await this.readToEnd();
    }
    return total;
  }

  private restart(): void {
    const partial = this.splitter.reset();
    this.position = 0;
    this.lineNumber = 0;
    this.head = undefined;
    this.options.onReset?.({ file: this.path, kind: 'truncated', partialBytes: partial?.length ?? 0 });
  }

  /** True when the start of the file no longer holds what we read there. */
  private async rewritten(): Promise<boolean> {
    const handle = this.handle;
    const head = this.head;
    if (!handle || !head || this.position === 0) return false;
    const now = Buffer.allocUnsafe(head.length);
    const { bytesRead } = await handle.read(now, 0, head.length, 0);
    return bytesRead < head.length || !now.equals(head);
  }

  /** An unfinished last line (no newline yet), e.g. when the writer was killed mid-line. */
  get pendingBytes(): number {
    return this.splitter.pendingBytes;
  }

  /**
   * Takes the unfinished last line once the writer is known to be done (it exited, or the file is
   * replayed as it is): a trainer's final `print(json.dumps(row), end="")` is still a row.
   */
  takeUnterminated(): { line: Buffer; lineNumber: number } | undefined {
    const line = this.splitter.reset();
    if (line === undefined || line.length === 0) return undefined;
    this.lineNumber++;
    return { line, lineNumber: this.lineNumber };
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.inode = undefined;
    if (handle) await handle.close();
  }

  private async open(fromStartAlways = false): Promise<boolean> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.path, 'r');
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT') {
        // Not there yet: everything it will hold is new, so read it from the start once it appears.
        this.started = true;
        if (!this.missingReported) {
          this.missingReported = true;
          this.options.onMissing?.(this.path);
        }
        return false;
      }
      throw error;
    }
    const stat = await handle.stat();
    this.handle = handle;
    this.inode = stat.ino;
    this.lineNumber = 0;
    this.head = undefined;
    this.position = fromStartAlways || this.started || this.options.fromStart ? 0 : stat.size;
    this.started = true;
    if (this.position > 0) {
      const head = Buffer.allocUnsafe(Math.min(HEAD_BYTES, this.position));
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      this.head = head.subarray(0, bytesRead);
    }
    return true;
  }

  private async readToEnd(): Promise<number> {
    const handle = this.handle;
    if (!handle) return 0;
    let total = 0;
    for (;;) {
      const at = this.position;
      const { bytesRead } = await handle.read(this.buffer, 0, CHUNK_BYTES, at);
      if (bytesRead === 0) return total;
      // A truncate-and-rewrite can land between poll()'s check and this read, which then returns
      // the middle of the new content (half lines, rows read twice). Checked again after the read:
      // such a chunk is dropped and the new content read from its start.
      if (at > 0 && (await this.rewritten())) {
        this.restart();
        continue;
      }
      if (at === 0) this.head = Buffer.from(this.buffer.subarray(0, Math.min(bytesRead, HEAD_BYTES)));
      this.position += bytesRead;
      total += bytesRead;
      const lines = this.splitter.push(this.buffer.subarray(0, bytesRead));
      if (lines.length > 0) {
        const firstLine = this.lineNumber + 1;
        this.lineNumber += lines.length;
        await this.options.onLines({ file: this.path, firstLine, lines });
      }
    }
  }
}

async function statOrUndefined(file: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.stat(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}
