/**
 * Atomic replace of a small file: write a temporary file in the same directory (rename is atomic only
 * within one file system), fsync it, then rename over the target. A reader sees the old file or the
 * whole new one; a crash leaves at most a stray `.tmp`, never half a manifest.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { diag } from '@opentelemetry/api';
import { errnoCode } from '../errors.js';
import { CREATE_NEW, refuseSymlinkAt } from '../files/no-follow.js';

export async function writeFileAtomic(target: string, data: string): Promise<void> {
  const dir = path.dirname(target);
  // Hidden and unique per writer, so concurrent writers never share a temp file and globs for
  // `*run_manifest.json` never match one.
  const temp = path.join(
    dir,
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const handle = await fs.promises.open(temp, CREATE_NEW, 0o644);
  try {
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    // A rename would replace a planted link silently: refuse it instead.
    refuseSymlinkAt(target);
    await fs.promises.rename(temp, target);
  } catch (error) {
    await removeQuietly(temp);
    throw error;
  }
}

async function removeQuietly(file: string): Promise<void> {
  try {
    await fs.promises.unlink(file);
  } catch (error) {
    // The write's own error is what the caller reports; a leftover temp file is only worth a trace.
    if (errnoCode(error) !== 'ENOENT')
      diag.debug(`codex-telemetry: could not remove ${file}: ${String(error)}`);
  }
}
