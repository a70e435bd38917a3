/**
 * Histogram buckets for durations in seconds. The SDK's default boundaries (0, 5, 10, 25 ... 10000)
 * suit milliseconds: a 50 ms step would land in the first bucket and every quantile would read 0-5 s.
 */
import { AggregationType, InstrumentType, type ViewOptions } from '@opentelemetry/sdk-metrics';

/**
 * 1 ms to 60 s, roughly three buckets per decade: covers a fast data-loader step up to a slow
 * optimizer step with checkpointing, with enough resolution for `histogram_quantile`.
 */
export const STEP_DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]);

/**
 * Views to pass to every MeterProvider that feeds Prometheus or OTLP
 * (`new MeterProvider({ views: secondsHistogramViews(), ... })`): any histogram whose unit is `s`
 * gets the seconds boundaries, whatever its name, so new duration histograms need no extra wiring.
 */
export function secondsHistogramViews(
  boundaries: readonly number[] = STEP_DURATION_BUCKETS_SECONDS,
): ViewOptions[] {
  return [
    {
      instrumentType: InstrumentType.HISTOGRAM,
      instrumentUnit: 's',
      aggregation: {
        type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
        options: { boundaries: [...boundaries], recordMinMax: true },
      },
    },
  ];
}
