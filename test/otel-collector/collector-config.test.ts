/**
 * No Collector binary installs here, so the Collector config is checked the way the Collector would
 * resolve it: every component a pipeline names is defined, every pipeline is complete, nothing is
 * defined and left unused, and the settings the dashboard depends on are present.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { otlpMetricsUrl } from '../../src/exporters/otlp/env.js';

const DIR = path.resolve(import.meta.dirname, '../../otel-collector');
const text = readFileSync(path.join(DIR, 'collector.yaml'), 'utf8');

type Section = Record<string, Record<string, unknown> | null>;
interface CollectorConfig {
  receivers: Section;
  processors: Section;
  exporters: Section;
  extensions?: Section;
  connectors?: Section;
  service: {
    extensions?: string[];
    pipelines: Record<string, { receivers?: string[]; processors?: string[]; exporters?: string[] }>;
  };
}
const config = parse(text) as CollectorConfig;

/** Component ids are `type` or `type/name`; the type must be a known word. */
const COMPONENT_ID = /^[a-z][a-z0-9_]*(\/[^/\s]+)?$/;
const PIPELINE_ID = /^(metrics|traces|logs)(\/[^/\s]+)?$/;

describe('otel-collector/collector.yaml', () => {
  it('has only the top-level sections the Collector knows', () => {
    const allowed = new Set(['receivers', 'processors', 'exporters', 'extensions', 'connectors', 'service']);
    expect(Object.keys(config).filter((key) => !allowed.has(key))).toEqual([]);
  });

  it('defines every receiver, processor and exporter a pipeline names, and every pipeline is complete', () => {
    const pipelines = Object.entries(config.service.pipelines);
    expect(pipelines.length).toBeGreaterThan(0);
    for (const [id, pipeline] of pipelines) {
      expect(id, `pipeline id ${id}`).toMatch(PIPELINE_ID);
      expect(pipeline.receivers?.length, `${id} has no receivers`).toBeGreaterThan(0);
      expect(pipeline.exporters?.length, `${id} has no exporters`).toBeGreaterThan(0);
      for (const [kind, section] of [
        ['receivers', config.receivers],
        ['processors', config.processors],
        ['exporters', config.exporters],
      ] as const) {
        for (const name of pipeline[kind] ?? []) {
          expect(name, `${id}.${kind}: ${name}`).toMatch(COMPONENT_ID);
          expect(Object.keys(section ?? {}), `${id}.${kind} names ${name}, which is not defined`).toContain(
            name,
          );
        }
        const names = pipeline[kind] ?? [];
        expect(new Set(names).size, `${id}.${kind} lists a component twice`).toBe(names.length);
      }
    }
    for (const extension of config.service.extensions ?? []) {
      expect(Object.keys(config.extensions ?? {})).toContain(extension);
    }
  });

  it('uses every component it defines', () => {
    const used = new Set<string>();
    for (const pipeline of Object.values(config.service.pipelines)) {
      for (const name of [
        ...(pipeline.receivers ?? []),
        ...(pipeline.processors ?? []),
        ...(pipeline.exporters ?? []),
      ]) {
        used.add(name);
      }
    }
    const defined = [
      ...Object.keys(config.receivers),
      ...Object.keys(config.processors),
      ...Object.keys(config.exporters),
    ];
    expect(defined.filter((name) => !used.has(name))).toEqual([]);
    expect(
      Object.keys(config.extensions ?? {}).filter((e) => !config.service.extensions?.includes(e)),
    ).toEqual([]);
  });

  it('receives every protocol we send on the port our exporters default to: HTTP (protobuf, JSON) and gRPC', () => {
    const otlp = config.receivers.otlp as { protocols: Record<string, { endpoint?: string } | undefined> };
    const portOf = (url: string): string => new URL(url).port;
    for (const protocol of ['http/protobuf', 'http/json'] as const) {
      expect(otlp.protocols.http?.endpoint).toMatch(new RegExp(`:${portOf(otlpMetricsUrl({}, protocol))}$`));
    }
    expect(otlp.protocols.grpc?.endpoint).toMatch(new RegExp(`:${portOf(otlpMetricsUrl({}, 'grpc'))}$`));
    expect(config.service.pipelines.metrics?.receivers).toContain('otlp');
  });

  it('puts the run labels on every remote-written series, as the file_sd entries do for scraped ranks', () => {
    const prw = config.exporters.prometheusremotewrite as {
      resource_to_telemetry_conversion?: { enabled?: boolean };
    };
    expect(prw.resource_to_telemetry_conversion?.enabled).toBe(true);
  });

  it('limits memory first and batches last, with the resource processor between', () => {
    const processors = config.service.pipelines.metrics?.processors ?? [];
    expect(processors[0]).toBe('memory_limiter');
    expect(processors.at(-1)).toBe('batch');
    expect(processors).toContain('resource');
    const resource = config.processors.resource as { attributes: Array<{ key: string; action: string }> };
    expect(resource.attributes.length).toBeGreaterThan(0);
    // insert: a value the rank set through OTEL_RESOURCE_ATTRIBUTES is never overwritten.
    for (const attribute of resource.attributes) expect(attribute.action).toBe('insert');
  });

  it('remote-writes to Prometheus with the scraped names, and archives to a file', () => {
    const prw = config.exporters.prometheusremotewrite as { endpoint: string; add_metric_suffixes: boolean };
    expect(prw.endpoint).toMatch(/\/api\/v1\/write/);
    // The dashboard's queries use the names /metrics serves; suffixes would rename them.
    expect(prw.add_metric_suffixes).toBe(false);
    const file = config.exporters.file as { path: string };
    expect(file.path).toBeTruthy();
    expect(config.service.pipelines.metrics?.exporters).toEqual(
      expect.arrayContaining(['prometheusremotewrite', 'file']),
    );
  });

  it('keeps the debug exporter present but commented out', () => {
    expect(Object.keys(config.exporters)).not.toContain('debug');
    expect(text).toMatch(/^\s*#\s*debug:\s*$/m);
    expect(text).toMatch(/^\s*#\s*verbosity: detailed\s*$/m);
  });
});
