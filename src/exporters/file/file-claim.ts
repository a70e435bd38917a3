/**
 * Keeps two live runs out of one file. Every sink file tracks its own write offset, so two
 * processes appending to one path overwrite each other's lines. A run claims its file by creating
 * `<file>.owner` exclusively (O_EXCL), holding its run id and pid:
 *
 * - no claim, or a claim whose process is gone (a crashed run): this run takes the file and appends
 *   after what is there, so runs one after the other keep every line of both;
 * - a claim held by a live process: this run writes `<stem>.<runId><ext>` beside it instead, and the
 *   caller warns naming the other run. Both runs run; neither loses a line.
 *
 * The claim is removed when the run closes its file. A SIGKILL leaves it behind; the next run sees
 * its process gone and takes over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../../errors.js';

export interface ClaimOwner {
  runId: string;
  pid: number;
}

export interface FileClaim {
  /** The file this run writes: the one asked for, or its per-run sibling. */
  path: string;
  /** The live run that holds the file asked for, when this run had to write beside it. */
  heldBy: ClaimOwner | undefined;
  /** Removes the claim if it is still this run's. Never throws. */
  release(): void;
}

export function claimFile(file: string, runId: string): FileClaim {
  try {
    return tryClaim(file, runId);
  } catch (error) {
    // Cannot claim (the folder is a file, read-only, gone...): write the file asked for anyway; the
    // sink reports its own errors when it opens it.
    if (errnoCode(error) === undefined) throw error;
    return { path: file, heldBy: undefined, release: () => undefined };
  }
}

function tryClaim(file: string, runId: string): FileClaim {
  const claim = `${file}.owner`;
  const mine: ClaimOwner = { runId, pid: process.pid };
  const release = (): void => {
    try {
      const owner = readOwner(claim);
      if (owner?.pid === mine.pid && owner.runId === runId) fs.unlinkSync(claim);
    } catch (error) {
      // Gone already, or the folder went away: nothing left to release.
      if (errnoCode(error) === undefined) throw error;
    }
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(claim, JSON.stringify(mine), { flag: 'wx' });
      return { path: file, heldBy: undefined, release };
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') {
        // Cannot claim (read-only folder, ...): write the file anyway; the sink reports its own errors.
        if (errnoCode(error) !== undefined)
          return { path: file, heldBy: undefined, release: () => undefined };
        throw error;
      }
    }
    const owner = readOwner(claim);
    if (owner !== undefined && owner.pid !== process.pid && alive(owner.pid)) {
      const own = perRunPath(file, runId);
      return { path: own, heldBy: owner, release: () => undefined };
    }
    // A stale claim (its process is gone, or unreadable): remove it and try again.
    fs.rmSync(claim, { force: true });
  }
  return { path: perRunPath(file, runId), heldBy: undefined, release: () => undefined };
}

/** `metrics.ndjson` → `metrics.<runId>.ndjson`. */
export function perRunPath(file: string, runId: string): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}.${runId}${ext}`;
}

function readOwner(claim: string): ClaimOwner | undefined {
  let text: string;
  try {
    text = fs.readFileSync(claim, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const owner = JSON.parse(text) as Partial<ClaimOwner>;
    if (typeof owner.runId === 'string' && typeof owner.pid === 'number') return owner as ClaimOwner;
  } catch (error) {
    // Half-written by a process killed mid-write: treat as stale.
    if (!(error instanceof SyntaxError)) throw error;
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user, so it is alive.
    return errnoCode(error) === 'EPERM';
  }
}
