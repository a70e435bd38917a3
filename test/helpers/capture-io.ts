/** A CommandIo whose stdout and stderr are kept in memory, for running a command in-process. */
import { Writable } from 'node:stream';
import type { CommandIo } from '../../src/command-line/command-io.js';

function sink(chunks: string[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
}

export interface CapturedIo {
  io: CommandIo;
  stdout: () => string;
  stderr: () => string;
}

export function captureIo(env: NodeJS.ProcessEnv = {}, extra: Partial<CommandIo> = {}): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: sink(out), stderr: sink(err), env, isTTY: false, ...extra },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
