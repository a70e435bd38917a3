/**
 * Opens a file to read that may not exist (yet, or any more): a stream a writer has not created,
 * a segment retention removed. Undefined for a missing file; any other failure is the caller's.
 */
import fs from 'node:fs';
import { errnoCode } from '../errors.js';

export function openIfExists(file: string): number | undefined {
  try {
    return fs.openSync(file, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}
