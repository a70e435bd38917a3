import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { ProcessTree } from '../../src/system/process-tree.js';

const dirs: string[] = [];
let child: ChildProcess | undefined;
let grandchild: number | undefined;

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  child?.kill('SIGKILL');
  child = undefined;
  if (grandchild !== undefined) process.kill(grandchild, 'SIGKILL');
  grandchild = undefined;
});

/** A procfs-shaped directory: each process's stat (with its ppid) and its main thread's task dir. */
function fakeProc(processes: Array<{ pid: number; ppid: number; children?: number[] }>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-proc-'));
  dirs.push(root);
  for (const { pid, ppid, children } of processes) {
    const task = path.join(root, String(pid), 'task', String(pid));
    fs.mkdirSync(task, { recursive: true });
    const fields = Array.from({ length: 50 }, () => '0');
    fields[1] = String(ppid); // field 4 is rest[1]
    fs.writeFileSync(
      path.join(root, String(pid), 'stat'),
      `${pid} (p ${pid}) S ${fields.slice(1).join(' ')}\n`,
    );
    if (children) fs.writeFileSync(path.join(task, 'children'), children.map((c) => `${c} `).join(''));
  }
  return root;
}

test('children files give the root and its descendants, breadth first', () => {
  const root = fakeProc([
    { pid: 100, ppid: 1, children: [101, 103] },
    { pid: 101, ppid: 100, children: [102] },
    { pid: 102, ppid: 101, children: [] },
    { pid: 103, ppid: 100, children: [] },
    { pid: 200, ppid: 1, children: [] },
  ]);
  expect(new ProcessTree(root).list(100)).toEqual([100, 101, 103, 102]);
});

test('a kernel without children files falls back to scanning every stat for its ppid', () => {
  const root = fakeProc([
    { pid: 100, ppid: 1 },
    { pid: 101, ppid: 100 },
    { pid: 102, ppid: 101 },
    { pid: 200, ppid: 1 },
  ]);
  expect(new ProcessTree(root).list(100)).toEqual([100, 101, 102]);
});

test('a root that has exited gives an empty tree', () => {
  const root = fakeProc([{ pid: 100, ppid: 1, children: [] }]);
  expect(new ProcessTree(root).list(4242)).toEqual([]);
});

test.runIf(fs.existsSync('/proc/self/task') || process.env.CI)(
  'on the live /proc both ways find a spawned grandchild',
  async () => {
    child = spawn(
      '/bin/sh',
      ['-c', `${process.execPath} -e "setInterval(() => {}, 1000); console.log(process.pid)"; exit 0`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    // `; exit 0` keeps the shell from exec'ing node in its place, so there really are two levels.
    grandchild = await new Promise<number>((resolve) =>
      child!.stdout!.once('data', (data: Buffer) => resolve(Number(String(data).trim()))),
    );
    const viaChildren = new ProcessTree('/proc').list(process.pid);
    expect(viaChildren).toContain(child.pid);
    expect(viaChildren).toContain(grandchild);
    // A proc root whose task dirs lack children files: point the scan at the real /proc stats.
    const scan = (new ProcessTree('/proc') as unknown as { viaScan(root: number): number[] }).viaScan(
      process.pid,
    );
    expect(new Set(scan)).toEqual(new Set(viaChildren));
    expect(grandchild).not.toBe(child.pid);
  },
);
