/**
 * Opens the enabled sinks of a registry for one run. Every enabled sink validates first, so a bad
 * config throws before any file exists; if a sink then fails to open, the ones already opened are
 * closed (files flushed and complete, readers stopped) before the error reaches the caller.
 */
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import type { RowSink } from '../pipeline/row-sink.js';
import type { OutputPaths, SinkContext, SinkDefinition, StreamRequest } from '../pipeline/sink-definition.js';

export interface AssembledSinks {
  rowSinks: RowSink[];
  readers: MetricReader[];
  paths: OutputPaths;
  /** The enabled definitions that open per-stream sinks (evaluation streams). */
  streamOpeners: SinkDefinition[];
}

/** Outcome a half-assembled run is closed with: not a success, so W&B syncs it as failed. */
const FAILED_START = { exitCode: 1 } as const;

export async function assembleSinks(
  definitions: readonly SinkDefinition[],
  context: SinkContext,
): Promise<AssembledSinks> {
  const enabled = definitions.filter((definition) => definition.enabled(context.config, context.env));
  for (const definition of enabled) definition.validate?.(context.config, context.env);
  const assembled: AssembledSinks = {
    rowSinks: [],
    readers: [],
    paths: { evalMetricsOut: [] },
    streamOpeners: enabled.filter((definition) => definition.openStream !== undefined),
  };
  try {
    for (const definition of enabled) {
      const opened = await definition.open(context);
      if (opened.rowSink) assembled.rowSinks.push(opened.rowSink);
      if (opened.reader) assembled.readers.push(opened.reader);
      mergePaths(assembled.paths, opened.paths);
    }
  } catch (error) {
    await closeAll(assembled);
    throw error;
  }
  return assembled;
}

/** Opens the per-stream sinks of an evaluation stream. */
export function openStreamSinks(
  openers: readonly SinkDefinition[],
  context: SinkContext,
  stream: StreamRequest,
  paths: OutputPaths,
): RowSink[] {
  const sinks: RowSink[] = [];
  for (const definition of openers) {
    const opened = definition.openStream?.(context, stream, paths);
    if (opened?.rowSink) sinks.push(opened.rowSink);
    mergePaths(paths, opened?.paths);
  }
  return sinks;
}

export function mergePaths(target: OutputPaths, source: Partial<OutputPaths> | undefined): void {
  if (source === undefined) return;
  const { evalMetricsOut, manifests, other, ...single } = source;
  Object.assign(target, single);
  if (evalMetricsOut) target.evalMetricsOut.push(...evalMetricsOut);
  if (manifests) (target.manifests ??= []).push(...manifests);
  if (other) target.other = { ...target.other, ...other };
}

async function closeAll(assembled: AssembledSinks): Promise<void> {
  await Promise.allSettled([
    ...assembled.rowSinks.map((sink) => sink.close(FAILED_START)),
    ...assembled.readers.map((reader) => reader.shutdown()),
  ]);
}
