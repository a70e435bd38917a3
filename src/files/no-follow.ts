/**
 * Every file we write is opened without following a symlink at its path, and created with
 * O_EXCL where we create it: a link planted at an output path (pointing at ~/.bashrc, another
 * run's file...) is refused with an error that says so, instead of being written through or
 * silently replaced. The NDJSON writer, TensorBoard event files, the W&B log and side files,
 * checkpoint manifests, gzip segments, captured output and `summarize --out` all open here.
 */
import fs from 'node:fs';
import { errnoCode } from '../errors.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/** The error for a symlink at an output path (ELOOP from O_NOFOLLOW reads "too many symbolic links"). */
export function symlinkRefused(filePath: string): NodeJS.ErrnoException {
  return Object.assign(
    new Error(
      `${filePath} is a symbolic link; output files are never written through a link (remove the link or choose another path)`,
    ),
    { code: 'ELOOP' },
  );
}

/** Rewrites ELOOP from an O_NOFOLLOW open as `symlinkRefused`; other errors pass unchanged. */
export function refuseLink(filePath: string, error: unknown): unknown {
  return errnoCode(error) === 'ELOOP' ? symlinkRefused(filePath) : error;
}

/** Throws `symlinkRefused` when `filePath` is a symlink (before a rename would replace it). */
export function refuseSymlinkAt(filePath: string): void {
  let isLink = false;
  try {
    isLink = fs.lstatSync(filePath).isSymbolicLink();
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  if (isLink) throw symlinkRefused(filePath);
}

/**
 * Opens an output file for writing: created with O_EXCL when it is new; an existing regular file
 * is appended to (the caller tracks the offset) or truncated; a FIFO is opened non-blocking
 * (ENXIO while nothing reads it); a symlink is refused.
 */
export function openOutput(filePath: string, truncate: boolean): number {
  try {
    return fs.openSync(filePath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o666);
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw refuseLink(filePath, error);
  }
  let isFifo = false;
  try {
    isFifo = fs.lstatSync(filePath).isFIFO();
  } catch (error) {
    // Gone between the two opens: the open below reports it.
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  try {
    return fs.openSync(filePath, O_WRONLY | O_NOFOLLOW | (isFifo ? O_NONBLOCK : truncate ? O_TRUNC : 0));
  } catch (error) {
    throw refuseLink(filePath, error);
  }
}

/** Flags for a file we create and must not find already there (temporary files, checkpoints). */
export const CREATE_NEW = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
/** Flags for appending to a file that may exist (captured output). */
export const APPEND_NO_FOLLOW = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW;
/** Flags for replacing a file's content in place (`summarize --out`). */
export const REPLACE_NO_FOLLOW = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW;

/** Writes a new file (O_EXCL, no link followed) in one go. */
export function writeNewFileSync(filePath: string, data: string | Uint8Array): void {
  let fd: number;
  try {
    fd = fs.openSync(filePath, CREATE_NEW, 0o644);
  } catch (error) {
    throw refuseLink(filePath, error);
  }
  try {
    fs.writeFileSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}
