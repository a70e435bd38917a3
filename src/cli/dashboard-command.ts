/**
 * `codex-telemetry dashboard [RUN_DIR | NDJSON_FILE | GLOB]... [--port P] [--host H]`: argument
 * parsing (pure, for tests) and the command itself, which serves until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { checkInputs } from '../dashboard/discover.js';
import { DEFAULT_HOST, startDashboard } from '../dashboard/server.js';

export const DASHBOARD_USAGE = `Usage: codex-telemetry dashboard [RUN_DIR | NDJSON_FILE | GLOB]... [--port P] [--host H]

Serves live training curves of the given runs (default: .codex) in the browser. Runs are found
under the folders given (rotated segments and ranks included); new lines appear within a second.
  --port P   port (default 6006, or the next free one; 0 = any free port)
  --host H   bind address (default ${DEFAULT_HOST}; anything else exposes the runs to that network)
`;

export type DashboardArgs =
  | { ok: true; inputs: string[]; port: number | undefined; host: string | undefined; help: boolean }
  | { ok: false; message: string };

export function parseDashboardArgs(argv: readonly string[]): DashboardArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    if (error instanceof TypeError && 'code' in error) return { ok: false, message: error.message };
    throw error;
  }
  const { values, positionals } = parsed;
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) {
      return { ok: false, message: `--port must be an integer between 0 and 65535, got "${values.port}"` };
    }
  }
  if (values.host !== undefined && values.host.trim() === '')
    return { ok: false, message: '--host must not be empty' };
  return {
    ok: true,
    inputs: positionals.length > 0 ? positionals : ['.codex'],
    port,
    host: values.host,
    help: values.help ?? false,
  };
}

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function dashboardCommand(argv: readonly string[], io: Io): Promise<number> {
  const args = parseDashboardArgs(argv);
  if (!args.ok) {
    io.stderr.write(
      `codex-telemetry dashboard: ${args.message}\nRun "codex-telemetry dashboard --help" for usage.\n`,
    );
    return 2;
  }
  if (args.help) {
    io.stdout.write(DASHBOARD_USAGE);
    return 0;
  }
  const missing = checkInputs(args.inputs);
  if (missing !== undefined) {
    io.stderr.write(`codex-telemetry dashboard: ${missing}; give a run folder, an NDJSON file or a glob\n`);
    return 2;
  }
  // Ctrl-C is ours before the URL is printed: a user or script that interrupts as soon as it sees
  // the URL gets a clean close, never the default signal death (a race a loaded machine shows).
  let resolveStopped = (): void => undefined;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  let serving = false;
  // Before the URL is out, a signal ends the process at once: reading a huge backlog must not make
  // SIGTERM wait for it (nothing is written, so nothing is lost). After, it closes cleanly.
  const stop = (signal: NodeJS.Signals): void => {
    if (serving) return resolveStopped();
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    io.stderr.write(`dashboard: ${signal} while reading; stopped\n`);
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    // The page is served once what is on disk has been read, so its first render is complete.
    io.stderr.write(`dashboard: reading ${args.inputs.join(' ')}\n`);
    const dashboard = await startDashboard({ inputs: args.inputs, port: args.port, host: args.host });
    serving = true;
    for (const url of dashboard.urls) io.stdout.write(`dashboard: ${url}\n`);
    await stopped;
    await dashboard.close();
    return 0;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
