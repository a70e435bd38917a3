/**
 * The OTel Resource both providers share. OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME are read
 * from the environment the run was given (the CLI passes a copy of process.env to the trainer
 * it wraps), not from process.env alone, so every command honours them.
 */
import os from 'node:os';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ResolvedTrainConfig } from '../config/train-config.js';

export function buildResource(config: ResolvedTrainConfig, env: NodeJS.ProcessEnv): Resource {
  const ours = resourceFromAttributes({
    'service.name': config.serviceName,
    'service.instance.id': `${config.runId}-${config.rank}`,
    'host.name': os.hostname(),
    'codex.run_id': config.runId,
    'codex.run_name': config.runName,
    'codex.rank': config.rank,
    'codex.local_rank': config.localRank,
    'codex.world_size': config.worldSize,
  });
  // The user's attributes win over our defaults, as OTel users expect; OTEL_SERVICE_NAME wins over both.
  const fromEnv: Record<string, string> = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  const serviceName = env.OTEL_SERVICE_NAME?.trim();
  if (serviceName) fromEnv['service.name'] = serviceName;
  return ours.merge(resourceFromAttributes(fromEnv));
}

/**
 * `key1=value1,key2=value2`, values percent-encoded (OpenTelemetry resource SDK spec). A malformed
 * pair is skipped, as the spec's env detector does, rather than failing the run.
 */
export function parseResourceAttributes(raw: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (raw === undefined || raw.trim() === '') return attributes;
  for (const pair of raw.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    const value = decode(pair.slice(at + 1).trim());
    if (key === '' || value === undefined) continue;
    attributes[key] = value;
  }
  return attributes;
}

function decode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch (error) {
    if (error instanceof URIError) return undefined;
    throw error;
  }
}
