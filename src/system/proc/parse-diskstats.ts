import { counter } from './proc-parse-error.js';

export interface DiskCounters {
  readonly readBytes: number;
  readonly writeBytes: number;
}

/** diskstats counts sectors of 512 bytes whatever the device's real sector size (kernel Documentation/admin-guide/iostats). */
const SECTOR_BYTES = 512;

/**
 * Devices whose I/O is not disk I/O (loop files, RAM disks, compressed swap in RAM, floppies, optical
 * drives) and partitions, whose I/O is already counted in their whole disk.
 */
const NOT_A_DISK = /^(loop|ram|zram|fd|sr)\d+$/;
const PARTITION = /^((sd|hd|vd|xvd)[a-z]+\d+|(nvme\d+n\d+|mmcblk\d+|nbd\d+)p\d+)$/;

export function isWholeDisk(name: string): boolean {
  return !NOT_A_DISK.test(name) && !PARTITION.test(name);
}

/** /proc/diskstats: `major minor name reads merged sectors_read ms writes merged sectors_written ...`. */
export function parseDiskstats(
  text: string,
  file = '/proc/diskstats',
  include: (name: string) => boolean = isWholeDisk,
): Map<string, DiskCounters> {
  const disks = new Map<string, DiskCounters>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i].trim().split(/\s+/);
    if (fields.length < 3) continue;
    const name = fields[2];
    if (!include(name)) continue;
    disks.set(name, {
      readBytes: counter(fields[5], file, i + 1, `${name}.sectors_read`) * SECTOR_BYTES,
      writeBytes: counter(fields[9], file, i + 1, `${name}.sectors_written`) * SECTOR_BYTES,
    });
  }
  return disks;
}
