/** SHA-256 of files, streamed so a multi-gigabyte checkpoint never sits in memory. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface TreeDigest {
  sizeBytes: number;
  fileCount: number;
  /** SHA-256 of the `sha256sum`-style listing (`<hex>  <relative path>\n`, paths sorted), or
   * undefined when hashing was not asked for. */
  sha256: string | undefined;
}

/**
 * Size (and optionally a digest) of a checkpoint saved as a directory. The digest covers names and
 * contents: it equals `find . -type f | sort | xargs sha256sum | sha256sum` run inside the folder.
 * `skip` names entries (relative to `root`) that are ours, such as the manifest itself.
 */
export async function digestTree(
  root: string,
  hash: boolean,
  skip: ReadonlySet<string>,
): Promise<TreeDigest> {
  const files = (await listFiles(root, '', skip)).sort();
  let sizeBytes = 0;
  const listing = createHash('sha256');
  for (const rel of files) {
    const full = path.join(root, rel);
    sizeBytes += (await fs.promises.stat(full)).size;
    if (hash) listing.update(`${await sha256File(full)}  ./${rel}\n`);
  }
  return { sizeBytes, fileCount: files.length, sha256: hash ? listing.digest('hex') : undefined };
}

async function listFiles(root: string, rel: string, skip: ReadonlySet<string>): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.promises.readdir(path.join(root, rel), { withFileTypes: true });
  for (const entry of entries) {
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (skip.has(childRel)) continue;
    if (entry.isDirectory()) out.push(...(await listFiles(root, childRel, skip)));
    else if (entry.isFile()) out.push(childRel);
  }
  return out;
}
