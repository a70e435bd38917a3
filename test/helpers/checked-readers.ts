/**
 * Our readers, behind an independent check: each file's framing and checksums are verified with
 * the reference CRCs in reference-framing.ts before our own reader decodes it. Write-then-read
 * tests import these, so a checksum bug shared by writer and reader fails them.
 */
import fs from 'node:fs';
import { readEventFile as readEventFileUnchecked } from '../../src/exporters/tensorboard/event-file-reader.js';
import {
  readWandbLog as readWandbLogUnchecked,
  type ReadWandbLogOptions,
} from '../../src/exporters/wandb/wandb-log-reader.js';
import { expectValidTfrecordFraming, expectValidWandbFraming } from './reference-framing.js';

const bytesOf = (source: string | Uint8Array): Uint8Array =>
  typeof source === 'string' ? fs.readFileSync(source) : source;

export function readWandbLog(
  source: string | Uint8Array,
  options: ReadWandbLogOptions = {},
): ReturnType<typeof readWandbLogUnchecked> {
  const bytes = bytesOf(source);
  const framed = expectValidWandbFraming(bytes).length;
  const log = readWandbLogUnchecked(
    bytes,
    typeof source === 'string' ? { ...options, name: source } : options,
  );
  if (log.records.length !== framed) {
    throw new Error(`our reader found ${log.records.length} records, the reference walk ${framed}`);
  }
  return log;
}

export function readEventFile(source: string | Uint8Array): ReturnType<typeof readEventFileUnchecked> {
  const bytes = bytesOf(source);
  const framed = expectValidTfrecordFraming(bytes);
  const file = readEventFileUnchecked(bytes);
  if (file.events.length !== framed) {
    throw new Error(`our reader found ${file.events.length} events, the reference walk ${framed}`);
  }
  return file;
}
