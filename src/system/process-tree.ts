/**
 * The process tree under a root pid, from /proc. Children are listed per thread in
 * /proc/<pid>/task/<tid>/children (a child belongs to the thread that forked it); kernels built
 * without CONFIG_PROC_CHILDREN lack that file, and then every /proc/<pid>/stat is scanned for ppid.
 */
import fs from 'node:fs';
import { errnoCode } from '../errors.js';
import { parseChildren, parsePidStat } from './proc/parse-pid.js';
import { readProcText } from './proc/read-proc-text.js';

/** A process or thread can exit between listing and reading: these codes mean "gone", not "broken". */
export function isGone(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'ESRCH';
}

export class ProcessTree {
  private readonly procRoot: string;
  private hasChildrenFiles: boolean | undefined;

  constructor(procRoot = '/proc') {
    this.procRoot = procRoot;
  }

  /** Root first, then descendants breadth-first; empty when the root has exited. */
  list(root: number): number[] {
    if (this.hasChildrenFiles !== false) {
      const pids = this.viaChildrenFiles(root);
      if (pids) return pids;
    }
    return this.viaScan(root);
  }

  private viaChildrenFiles(root: number): number[] | undefined {
    const pids = [root];
    const seen = new Set(pids);
    for (let i = 0; i < pids.length; i++) {
      const pid = pids[i];
      let tids: string[];
      try {
        tids = fs.readdirSync(`${this.procRoot}/${pid}/task`);
      } catch (error) {
        if (!isGone(error)) throw error;
        if (i === 0) return [];
        continue;
      }
      for (const tid of tids) {
        const file = `${this.procRoot}/${pid}/task/${tid}/children`;
        let text: string;
        try {
          text = readProcText(file);
        } catch (error) {
          if (!isGone(error)) throw error;
          if (this.hasChildrenFiles === undefined && errnoCode(error) === 'ENOENT' && i === 0) {
            // The root's own thread exists but has no children file: the kernel lacks the feature.
            if (fs.existsSync(`${this.procRoot}/${pid}/task/${tid}`)) {
              this.hasChildrenFiles = false;
              return undefined;
            }
          }
          continue;
        }
        this.hasChildrenFiles = true;
        for (const child of parseChildren(text, file)) {
          if (!seen.has(child)) {
            seen.add(child);
            pids.push(child);
          }
        }
      }
    }
    return pids;
  }

  private viaScan(root: number): number[] {
    const parentOf = new Map<number, number[]>();
    for (const entry of fs.readdirSync(this.procRoot)) {
      if (!/^\d+$/.test(entry)) continue;
      const file = `${this.procRoot}/${entry}/stat`;
      let ppid: number;
      try {
        ppid = parsePidStat(readProcText(file), file).ppid;
      } catch (error) {
        if (isGone(error)) continue;
        throw error;
      }
      const siblings = parentOf.get(ppid);
      if (siblings) siblings.push(Number(entry));
      else parentOf.set(ppid, [Number(entry)]);
    }
    if (!fs.existsSync(`${this.procRoot}/${root}`)) return [];
    const pids = [root];
    for (let i = 0; i < pids.length; i++) {
      for (const child of parentOf.get(pids[i]) ?? []) if (!pids.includes(child)) pids.push(child);
    }
    return pids;
  }
}
