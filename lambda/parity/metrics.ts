import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { ParityResult } from './result';

/** Metric names of the parity function; the alarms and the dashboard use the same constants. */
export const PARITY_METRICS = {
  differences: 'ParityDifferences',
  onlyInBlue: 'ParityOnlyInBlue',
  onlyInGreen: 'ParityOnlyInGreen',
  changed: 'ParityChanged',
  duplicateKeys: 'ParityDuplicateKeys',
  nullKeys: 'ParityNullKeys',
  failures: 'ParityFailures',
  heartbeat: 'ParityHeartbeat',
} as const;

/** The dimension that names a pair (beside Environment). */
export const PARITY_PAIR_DIMENSION = 'Pair';

/**
 * One run as metric data, dimensions Environment and Pair. A run that compared publishes the differences (the
 * total its alarm reads) and a heartbeat; the differences by kind only when non-zero (only the dashboard reads
 * them, and a series costs $0.30 a month for every hour it receives data). The rows compared and the database
 * time are in the run's log line and its summary in the state table (what `npm run parity` and the gate read). A run that could
 * not compare publishes ParityFailures 1 and no heartbeat; a 0 is never published, as its alarm treats missing
 * data as not breaching (a 0 and no datapoint are the same to it).
 */
export function parityMetricData(
  envName: string,
  pair: string,
  result: ParityResult | undefined,
  timestamp = result ? new Date(result.finishedAt) : new Date(),
): MetricDatum[] {
  const dims = [
    { Name: 'Environment', Value: envName },
    { Name: PARITY_PAIR_DIMENSION, Value: pair },
  ];
  const put = (name: string, value: number, unit: MetricDatum['Unit'] = 'Count'): MetricDatum => ({
    MetricName: name,
    Value: value,
    Unit: unit,
    Timestamp: timestamp,
    Dimensions: dims,
  });
  if (!result || result.status === 'error') return [put(PARITY_METRICS.failures, 1)];
  const byKind: [string, number][] = [
    [PARITY_METRICS.onlyInBlue, result.onlyInBlue],
    [PARITY_METRICS.onlyInGreen, result.onlyInGreen],
    [PARITY_METRICS.changed, result.changed],
    [PARITY_METRICS.duplicateKeys, result.duplicateKeys.blue + result.duplicateKeys.green],
    [PARITY_METRICS.nullKeys, result.nullKeys.blue + result.nullKeys.green],
  ];
  return [
    put(PARITY_METRICS.differences, result.differences),
    ...byKind.filter(([, n]) => n > 0).map(([name, n]) => put(name, n)),
    put(PARITY_METRICS.heartbeat, 1),
  ];
}
