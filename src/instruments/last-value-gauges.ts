/**
 * Last-value gauges served to Prometheus and OTLP readers as an OpenTelemetry MetricProducer.
 *
 * Why not observable gauges: on every scrape the SDK hashes each data point's attributes, rebuilds
 * its accumulation maps and merges them into the cumulative state. At 10k series that is ~21 ms of
 * a ~28 ms scrape, twice what prom-client needs for the same series (bench/prometheus.bench.ts).
 * A training scalar only ever needs "the last value per phase": this producer keeps exactly that in
 * preallocated series objects, so `set()` is a field write on the hot path and `collect()` only
 * copies values into MetricData for the exporter's serializer.
 *
 * Pass it to the readers (`metricProducers`) of createPrometheusReader / createOtlpReader. The
 * reader replaces the producer's resource with the MeterProvider's, so target_info is unchanged.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { hrTime, type InstrumentationScope } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type GaugeMetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { emptyResource } from '@opentelemetry/resources';
import { ConfigError } from '../errors.js';

const EMPTY_RESOURCE = emptyResource();

/** The OTel API's instrument name rule; anything else the SDK would refuse. */
const INSTRUMENT_NAME = /^[A-Za-z][A-Za-z0-9_.\-/]{0,254}$/;

export interface GaugeOptions {
  description?: string;
  unit?: string;
  valueType?: ValueType;
}

/** One attribute set of one gauge. Holds no value until the first `set()`: absent, never 0. */
export class GaugeSeries {
  readonly attributes: Attributes;
  value = 0;
  hasValue = false;

  constructor(attributes: Attributes) {
    this.attributes = attributes;
  }

  set(value: number): void {
    this.value = value;
    this.hasValue = true;
  }

  /** Stops exporting this series until the next `set()`. */
  clear(): void {
    this.hasValue = false;
  }
}

export class LastValueGauge {
  readonly name: string;
  readonly options: Required<GaugeOptions>;
  private readonly byKey = new Map<string, GaugeSeries>();

  constructor(name: string, options: GaugeOptions) {
    this.name = name;
    this.options = {
      description: options.description ?? '',
      unit: options.unit ?? '',
      valueType: options.valueType ?? ValueType.DOUBLE,
    };
  }

  /** The series for an attribute set; resolve it once and keep it (like a bound instrument). */
  series(attributes: Attributes = {}): GaugeSeries {
    const key = attributeKey(attributes);
    let series = this.byKey.get(key);
    if (series === undefined) {
      series = new GaugeSeries(Object.freeze({ ...attributes }));
      this.byKey.set(key, series);
    }
    return series;
  }

  /** Convenience for cold paths; hot paths keep the GaugeSeries. */
  set(value: number, attributes: Attributes = {}): void {
    this.series(attributes).set(value);
  }

  /** @internal */
  allSeries(): IterableIterator<GaugeSeries> {
    return this.byKey.values();
  }
}

export class LastValueGauges implements MetricProducer {
  private readonly scope: InstrumentationScope;
  private readonly startTime: HrTime;
  private readonly gauges = new Map<string, LastValueGauge>();

  constructor(options: { scope: InstrumentationScope; startTime?: HrTime }) {
    this.scope = options.scope;
    this.startTime = options.startTime ?? hrTime();
  }

  /** Declares a gauge; declaring the same name again returns the first one, as OTel meters do. */
  gauge(name: string, options: GaugeOptions = {}): LastValueGauge {
    if (!INSTRUMENT_NAME.test(name)) {
      throw new ConfigError(
        'name',
        name,
        'an OpenTelemetry instrument name ([A-Za-z][A-Za-z0-9_.-/]{0,254})',
      );
    }
    let gauge = this.gauges.get(name);
    if (gauge === undefined) {
      gauge = new LastValueGauge(name, options);
      this.gauges.set(name, gauge);
    }
    return gauge;
  }

  async collect(): Promise<CollectionResult> {
    const endTime = hrTime();
    const metrics: GaugeMetricData[] = [];
    for (const gauge of this.gauges.values()) {
      const dataPoints: GaugeMetricData['dataPoints'] = [];
      for (const series of gauge.allSeries()) {
        if (!series.hasValue) continue;
        dataPoints.push({
          startTime: this.startTime,
          endTime,
          attributes: series.attributes,
          value: series.value,
        });
      }
      if (dataPoints.length === 0) continue;
      metrics.push({
        descriptor: { name: gauge.name, ...gauge.options },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints,
      });
    }
    return {
      // MetricReader.collect keeps the SDK's resource and drops a producer's.
      resourceMetrics: {
        resource: EMPTY_RESOURCE,
        scopeMetrics: metrics.length > 0 ? [{ scope: this.scope, metrics }] : [],
      },
      errors: [],
    };
  }
}

/** Order-independent key of an attribute set (attributes are few; this runs once per series). */
function attributeKey(attributes: Attributes): string {
  const keys = Object.keys(attributes).sort();
  return JSON.stringify(keys.map((key) => [key, attributes[key]]));
}
