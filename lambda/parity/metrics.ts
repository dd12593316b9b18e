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
  rowsCompared: 'ParityRowsCompared',
  failures: 'ParityFailures',
  heartbeat: 'ParityHeartbeat',
  databaseTime: 'ParityDatabaseTimeMs',
} as const;

/** The dimension that names a pair (beside Environment). */
export const PARITY_PAIR_DIMENSION = 'Pair';

/**
 * One run as metric data, dimensions Environment and Pair: the differences by kind and the rows compared
 * when it compared (plus a heartbeat), ParityFailures 1 and no heartbeat when it could not.
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
  return [
    put(PARITY_METRICS.failures, 0),
    put(PARITY_METRICS.differences, result.differences),
    put(PARITY_METRICS.onlyInBlue, result.onlyInBlue),
    put(PARITY_METRICS.onlyInGreen, result.onlyInGreen),
    put(PARITY_METRICS.changed, result.changed),
    put(PARITY_METRICS.duplicateKeys, result.duplicateKeys.blue + result.duplicateKeys.green),
    put(PARITY_METRICS.nullKeys, result.nullKeys.blue + result.nullKeys.green),
    put(PARITY_METRICS.rowsCompared, result.rows.blue + result.rows.green),
    put(PARITY_METRICS.databaseTime, result.databaseMs, 'Milliseconds'),
    put(PARITY_METRICS.heartbeat, 1),
  ];
}
