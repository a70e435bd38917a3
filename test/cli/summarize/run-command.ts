/** Runs summarizeCommand in-process with captured stdout/stderr. */
import { summarizeCommand } from '../../../src/summarize/index.js';
import { captureIo } from '../../helpers/capture-io.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runSummarize(argv: string[], isTTY = false): Promise<CommandResult> {
  const captured = captureIo({}, { isTTY });
  const code = await summarizeCommand(argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}
