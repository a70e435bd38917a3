/** Runs summarizeCommand in-process with captured stdout/stderr. */
import { Writable } from 'node:stream';
import { summarizeCommand } from '../../../src/summarize/index.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(chunks: string[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
}

export async function runSummarize(argv: string[], isTTY = false): Promise<CommandResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await summarizeCommand(argv, { stdout: sink(out), stderr: sink(err), isTTY });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
