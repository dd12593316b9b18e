import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { RunReport } from './results';

/** Metric names the checker publishes; the alarms and dashboard use the same constants. */
export const CHECK_METRICS = {
  rowCount: 'RowCount',
  /** Rows of an earlier exact look that are gone (by primary key), open until accepted: one page per loss. */
  rowsLost: 'RowsLost',
  /** 1 while a table's "could not verify" is open (per table), and the number of such tables (per run). */
  unverified: 'Unverified',
  unverifiedTables: 'UnverifiedTables',
  schemaChanged: 'SchemaChanged',
  freshnessAge: 'FreshnessAgeSeconds',
  checkFailures: 'CheckFailures',
  customValue: 'CustomCheckValue',
  heartbeat: 'Heartbeat',
  databaseTime: 'CheckDatabaseTimeMs',
} as const;

/**
 * Metrics published at high resolution (StorageResolution 1): their alarms use 10-second periods, so a
 * committed loss pages seconds after the run that saw it (see LOSS_ALARM_PERIOD in lib/constructs/data-checks.ts).
 */
export const HIGH_RESOLUTION_METRICS: ReadonlySet<string> = new Set([CHECK_METRICS.rowsLost]);

/**
 * The run as CloudWatch metric data: per table (dimensions Environment, Table), per custom check
 * (Environment, Check), and per run (Environment): CheckFailures always, UnverifiedTables when tables were
 * checked, Heartbeat only when the run looked at everything it was asked to (a run that could not look: an open
 * "could not verify" is paged by its own alarm, so it alone does not stop the heartbeat).
 */
export function metricData(
  envName: string,
  report: RunReport,
  timestamp = new Date(report.finishedAt),
): MetricDatum[] {
  const env = { Name: 'Environment', Value: envName };
  const data: MetricDatum[] = [];
  const put = (
    name: string,
    value: number,
    dims: { Name: string; Value: string }[],
    unit: MetricDatum['Unit'],
  ) =>
    data.push({
      MetricName: name,
      Value: value,
      Unit: unit,
      Timestamp: timestamp,
      Dimensions: [env, ...dims],
      ...(HIGH_RESOLUTION_METRICS.has(name) ? { StorageResolution: 1 } : {}),
    });

  for (const t of report.tables) {
    const table = [{ Name: 'Table', Value: t.key }];
    // Per table only when it failed (as for freshness): no alarm or graph reads a per-table 0, and every
    // series published costs $0.30 a month; the per-run CheckFailures below counts every failure.
    if (t.failed) put(CHECK_METRICS.checkFailures, 1, table, 'Count');
    if (t.failed && t.method === 'none') continue;
    if (t.rowCount !== undefined) put(CHECK_METRICS.rowCount, t.rowCount, table, 'Count');
    if (t.rowsLost !== undefined) put(CHECK_METRICS.rowsLost, t.rowsLost, table, 'Count');
    if (t.unverified !== undefined) put(CHECK_METRICS.unverified, t.unverified, table, 'Count');
    if (t.schemaChanged !== undefined) put(CHECK_METRICS.schemaChanged, t.schemaChanged, table, 'Count');
  }
  for (const f of report.freshness) {
    const table = [{ Name: 'Table', Value: f.key }];
    if (f.failed) put(CHECK_METRICS.checkFailures, 1, table, 'Count');
    else if (f.ageSeconds !== undefined) put(CHECK_METRICS.freshnessAge, f.ageSeconds, table, 'Seconds');
  }
  for (const c of report.custom) {
    if (c.value !== undefined)
      put(CHECK_METRICS.customValue, c.value, [{ Name: 'Check', Value: c.name }], 'None');
  }
  // An open "could not verify" has its own metric and alarm (UnverifiedTables), so it is not also a failure.
  const failedChecks =
    report.results.filter((r) => r.status === 'error' && r.failure !== 'unverified').length +
    report.failures.length;
  put(CHECK_METRICS.checkFailures, failedChecks, [], 'Count');
  if (report.tables.length > 0) {
    const open = report.tables.filter((t) => t.unverified === 1).length;
    put(CHECK_METRICS.unverifiedTables, open, [], 'Count');
  }
  if (failedChecks === 0) put(CHECK_METRICS.heartbeat, 1, [], 'Count');
  put(CHECK_METRICS.databaseTime, report.databaseMs, [], 'Milliseconds');
  return data;
}

/** The metric data of a run that failed before it produced a report (e.g. the secret could not be read). */
export function failureMetricData(envName: string, timestamp = new Date()): MetricDatum[] {
  return [
    {
      MetricName: CHECK_METRICS.checkFailures,
      Value: 1,
      Unit: 'Count',
      Timestamp: timestamp,
      Dimensions: [{ Name: 'Environment', Value: envName }],
    },
  ];
}

/** PutMetricData in batches of 500 (the API takes up to 1000 per call). */
export async function publishMetrics(
  cw: CloudWatchClient,
  namespace: string,
  data: readonly MetricDatum[],
): Promise<void> {
  for (let i = 0; i < data.length; i += 500) {
    await cw.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(i, i + 500) }));
  }
}
