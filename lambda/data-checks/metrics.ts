import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { RunReport, TableReport } from './results';

/** Metric names the checker publishes; the alarms and dashboard use the same constants. */
export const CHECK_METRICS = {
  rowCount: 'RowCount',
  /**
   * Rows of an earlier exact look that are gone (by primary key), open until accepted. Per run (dimension
   * Environment only): the largest open loss over the guarded tables, what the one loss alarm reads; per table
   * (with Table) only while that table's loss is open, for the dashboard.
   */
  rowsLost: 'RowsLost',
  /** 1 while a table's "could not verify" is open (per table, only then), and the number of such tables (per run). */
  unverified: 'Unverified',
  unverifiedTables: 'UnverifiedTables',
  /** 1 while a tracked table's schema differs from its baseline (per table, only then). */
  schemaChanged: 'SchemaChanged',
  /** Tracked tables whose schema differs from their baseline (per run): what the schema alarm reads. */
  schemaChangedTables: 'SchemaChangedTables',
  freshnessAge: 'FreshnessAgeSeconds',
  checkFailures: 'CheckFailures',
  /** 1 when a run could not connect to the database (published only then). */
  databaseUnreachable: 'DatabaseUnreachable',
  customValue: 'CustomCheckValue',
  heartbeat: 'Heartbeat',
} as const;

/**
 * Metrics published at high resolution (StorageResolution 1): their alarms use 10-second periods, so a
 * committed loss pages seconds after the run that saw it (see LOSS_ALARM_PERIOD in lib/constructs/data-checks.ts).
 */
export const HIGH_RESOLUTION_METRICS: ReadonlySet<string> = new Set([CHECK_METRICS.rowsLost]);

/**
 * The largest value of `values`, or undefined when one is unknown (a table this run could not look at): a
 * per-run aggregate is published only when it covers every table, so a table that could not be checked can
 * never turn an open violation into a false 0. Its alarm ignores missing data and keeps its state.
 */
export function completeMax(values: readonly (number | undefined)[]): number | undefined {
  if (values.length === 0 || values.some((v) => v === undefined)) return undefined;
  return Math.max(...(values as number[]));
}

/** How many of `values` are at least 1, or undefined when one is unknown (see completeMax). */
export function completeCount(values: readonly (number | undefined)[]): number | undefined {
  if (values.length === 0 || values.some((v) => v === undefined)) return undefined;
  return values.filter((v) => (v ?? 0) >= 1).length;
}

/**
 * The run as CloudWatch metric data. Every series costs $0.30 a month for each hour it receives data, so
 * only what an alarm or a graph reads is published, and what only a graph reads or only a "missing is not
 * breaching" alarm reads is published when non-zero (to such an alarm a 0 and no datapoint are the same):
 * - per table (Environment, Table): RowCount; RowsLost, Unverified, SchemaChanged and CheckFailures only while
 *   non-zero (the dashboard names the table);
 * - per freshness table: FreshnessAgeSeconds; per custom check (Environment, Check): CustomCheckValue;
 * - per run (Environment): RowsLost (largest open loss), UnverifiedTables and SchemaChangedTables, each only
 *   when every table it covers was looked at (completeMax, completeCount); CheckFailures and
 *   DatabaseUnreachable when non-zero; Heartbeat only when the run looked at everything it was asked to.
 * The database time of a run is in its log line; the function's Duration is graphed.
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
  const whenNonZero = (name: string, value: number | undefined, dims: { Name: string; Value: string }[]) => {
    if (value !== undefined && value !== 0) put(name, value, dims, 'Count');
  };

  for (const t of report.tables) {
    const table = [{ Name: 'Table', Value: t.key }];
    if (t.failed) put(CHECK_METRICS.checkFailures, 1, table, 'Count');
    if (t.failed && t.method === 'none') continue;
    if (t.rowCount !== undefined) put(CHECK_METRICS.rowCount, t.rowCount, table, 'Count');
    whenNonZero(CHECK_METRICS.rowsLost, t.rowsLost, table);
    whenNonZero(CHECK_METRICS.unverified, t.unverified, table);
    whenNonZero(CHECK_METRICS.schemaChanged, t.schemaChanged, table);
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
  // Per-run aggregates: over the tables whose rule the config sets (failed ones included, as unknown), and
  // only from a run that reached every table (a run that stopped early lists only some).
  const complete = report.failures.length === 0;
  const known = (t: TableReport, v: number | undefined) => (complete && !t.failed ? v : undefined);
  const guarded = report.tables.filter((t) => t.guarded ?? t.rowsLost !== undefined);
  const tracked = report.tables.filter((t) => t.tracked ?? t.schemaChanged !== undefined);
  const lost = completeMax(guarded.map((t) => known(t, t.rowsLost)));
  if (lost !== undefined) put(CHECK_METRICS.rowsLost, lost, [], 'Count');
  const unverifiedOpen = completeCount(
    report.tables.filter((t) => t.guarded || t.unverified !== undefined).map((t) => known(t, t.unverified)),
  );
  if (unverifiedOpen !== undefined) put(CHECK_METRICS.unverifiedTables, unverifiedOpen, [], 'Count');
  const schemaOpen = completeCount(tracked.map((t) => known(t, t.schemaChanged)));
  if (schemaOpen !== undefined) put(CHECK_METRICS.schemaChangedTables, schemaOpen, [], 'Count');
  // An open "could not verify" has its own metric and alarm (UnverifiedTables), so it is not also a failure.
  const failedChecks =
    report.results.filter((r) => r.status === 'error' && r.failure !== 'unverified').length +
    report.failures.length;
  whenNonZero(CHECK_METRICS.checkFailures, failedChecks, []);
  if (report.failures.some((f) => f.kind === 'unreachable'))
    put(CHECK_METRICS.databaseUnreachable, 1, [], 'Count');
  if (failedChecks === 0) put(CHECK_METRICS.heartbeat, 1, [], 'Count');
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
