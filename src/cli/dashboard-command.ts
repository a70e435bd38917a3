/**
 * `codex-telemetry dashboard [RUN_DIR | NDJSON_FILE | GLOB]... [--port P] [--host H]`: argument
 * parsing (pure, for tests) and the command itself, which serves until SIGINT/SIGTERM.
 */
import type { CommandIo } from '../command-line/command-io.js';
import { usageErrorText } from '../command-line/run-bin.js';
import { parseFlags, stringFlag } from '../command-line/parse-flags.js';
import { checkInputs } from '../dashboard/discover.js';
import { DEFAULT_HOST, startDashboard } from '../dashboard/server.js';
import { UsageError, USAGE_EXIT_CODE } from '../errors.js';
import { packageVersion } from '../command-line/version.js';
import { SOURCE_KINDS, type SourceKind } from '../sources/run-source.js';
import { DEFAULT_MAX_LINE_BYTES, MAX_LINE_BYTES_ENV, parseMaxLineBytes } from '../ndjson/line/max-line.js';

export const DASHBOARD_USAGE = `Usage: codex-telemetry dashboard [RUN_DIR | FILE | GLOB]... [--port P] [--host H] [--source KIND]

Serves live training curves of the given runs (default: .codex) in the browser. Runs are found
under the folders given: NDJSON streams (rotated segments and ranks included), TensorBoard event
files (events.out.tfevents.*, one run per folder) and W&B offline runs (offline-run-*); new data
appears within a second.
  --port P         port (default 6006, or the next free one; 0 = any free port)
  --host H         bind address (default ${DEFAULT_HOST}; anything else exposes the runs to that network)
  --source KIND    only ndjson, tfevents or wandb runs (an explicit file: read with that reader)
  --max-line-bytes N   a longer NDJSON line is one malformed line, skipped (default ${DEFAULT_MAX_LINE_BYTES};
                   env ${MAX_LINE_BYTES_ENV})
  -h, --help       show this help
  -V, --version    print the version
`;

export type DashboardArgs =
  | {
      kind: 'serve';
      inputs: string[];
      port: number | undefined;
      host: string | undefined;
      source: SourceKind | undefined;
      maxLineBytes: number | undefined;
    }
  | { kind: 'help' }
  | { kind: 'version' };

/** Pure: argv after `dashboard` → what to serve, help or version; a UsageError naming the bad flag. */
export function parseDashboardArgs(argv: readonly string[]): DashboardArgs {
  const flags = parseFlags(
    argv,
    [
      { flag: 'port', kind: 'integer', min: 0, max: 65535 },
      { flag: 'host', kind: 'string' },
      { flag: 'source', kind: 'string' },
      { flag: 'max-line-bytes', kind: 'string' },
    ],
    { usage: DASHBOARD_USAGE },
  );
  if (flags.help) return { kind: 'help' };
  if (flags.version) return { kind: 'version' };
  const host = stringFlag(flags, 'host');
  if (host?.trim() === '') throw new UsageError('--host must not be empty', DASHBOARD_USAGE);
  const port = flags.values.get('port') as number | undefined;
  const source = stringFlag(flags, 'source');
  if (source !== undefined && !(SOURCE_KINDS as readonly string[]).includes(source))
    throw new UsageError(`--source ${source} is not one of ${SOURCE_KINDS.join(', ')}`, DASHBOARD_USAGE);
  const inputs = flags.positionals.length > 0 ? flags.positionals : ['.codex'];
  const maxLine = stringFlag(flags, 'max-line-bytes');
  const maxLineBytes = maxLine === undefined ? undefined : parseMaxLineBytes(maxLine, '--max-line-bytes');
  return { kind: 'serve', inputs, port, host, source: source as SourceKind | undefined, maxLineBytes };
}

export async function dashboardCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  let args: DashboardArgs;
  try {
    args = parseDashboardArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(usageErrorText('codex-telemetry dashboard', error.message));
    return USAGE_EXIT_CODE;
  }
  if (args.kind === 'help') {
    io.stdout.write(DASHBOARD_USAGE);
    return 0;
  }
  if (args.kind === 'version') {
    io.stdout.write(`codex-telemetry ${packageVersion()}\n`);
    return 0;
  }
  // Every reader of the dashboard (its followers and backlog worker threads, which copy the
  // environment when they start) takes its limit from CODEX_MAX_LINE_BYTES.
  if (args.maxLineBytes !== undefined) process.env[MAX_LINE_BYTES_ENV] = String(args.maxLineBytes);
  const missing = checkInputs(args.inputs);
  if (missing !== undefined) {
    io.stderr.write(`codex-telemetry dashboard: ${missing}; give a run folder, an NDJSON file or a glob\n`);
    return USAGE_EXIT_CODE;
  }
  // Ctrl-C is ours from the start: a user or script that interrupts as soon as it sees the URL
  // gets exit status 0, never the default signal death (a race a loaded machine shows).
  let resolveStopped = (): void => undefined;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  let urlsOut = false;
  let serving = false;
  // While the runs are read at start, a signal ends the process at once: reading a huge backlog
  // must not make SIGTERM wait for it (only whole index blocks are kept: one torn by the exit is
  // ignored and written again by the next reader, so nothing is lost). After, it closes cleanly.
  const stop = (signal: NodeJS.Signals): void => {
    if (serving) return resolveStopped();
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    io.stderr.write(`dashboard: ${signal} while reading; stopped\n`);
    // Once the URL is out, a stop is what the user asked for (status 0, as after the read); before
    // it, the process ends by the signal, as it would have without a handler.
    if (urlsOut) process.exit(0);
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    // The URL is printed as soon as the server listens: a browser loads the page while the runs
    // are read, and the page's data requests are answered once they are, so its first render is
    // complete. Until then a signal ends the process at once (above).
    io.stderr.write(`dashboard: reading ${args.inputs.join(' ')}\n`);
    const dashboard = await startDashboard({
      inputs: args.inputs,
      port: args.port,
      host: args.host,
      source: args.source,
      onListening: (urls) => {
        for (const url of urls) io.stdout.write(`dashboard: ${url}\n`);
        urlsOut = true;
      },
    });
    serving = true;
    await stopped;
    await dashboard.close();
    return 0;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
