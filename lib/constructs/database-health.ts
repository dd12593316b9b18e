import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import type { DatabaseHealthConfig, SeverityThresholdsConfig } from '../config/sections/alerting';
import type { AlarmFactory, SeverityThresholds } from './alarm-factory';
import type { AlertTopics, Severity } from './alert-topics';
import { thresholdLines, type DashboardSection } from './dashboard-section';

export interface DatabaseHealthProps {
  /** `alerting.databaseHealth` of the environment. */
  readonly config: DatabaseHealthConfig;
  /** The instance the guardrails protect (the primary): `stateful.database.instanceIdentifier`. */
  readonly instanceIdentifier: string;
  /** Its allocated storage, the denominator of the free-storage fraction. */
  readonly allocatedStorageGiB: number;
  /**
   * The size storage autoscaling may grow it to (a created database's `maxAllocatedStorageGiB`). When above
   * `allocatedStorageGiB` the allocated size is not known after deploy, so the percentage thresholds are not
   * used (synth warning) and only the GiB floors apply.
   * @default allocatedStorageGiB (no autoscaling)
   */
  readonly maxAllocatedStorageGiB?: number;
  readonly alarms: AlarmFactory;
  readonly topics: AlertTopics;
  /** `<project>-<env>`, prefix of the event subscription names. */
  readonly namePrefix: string;
}

/**
 * RDS event categories routed to each topic. `backup` is deliberately absent: the snapshot capability
 * subscribes to it (with the snapshot events) so backup problems arrive once, with snapshot context.
 * None pages: each cause behind them already pages once through an alarm (low storage: free-storage
 * critical; failure: the checker's heartbeat; a failover recovers by itself), so the events are mailed as
 * context. A severity with no category gets no subscription (an empty list would mean every category).
 */
export const RDS_EVENT_CATEGORIES: Record<Severity, readonly string[]> = {
  critical: [],
  warning: ['failover', 'failure', 'low storage', 'maintenance', 'notification', 'availability'],
};

/** How long the instance may publish no metrics before the metrics-missing alarm pages. */
const METRICS_MISSING_MIN_MINUTES = 10;

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

interface Watched {
  readonly id: string;
  readonly what: string;
  readonly title: string;
  readonly unit: string;
  readonly metric: cloudwatch.IMetric;
  readonly thresholds: SeverityThresholds;
  readonly worseWhen: 'higher' | 'lower';
  readonly runbookAnchor: string;
  readonly meaning: (severity: Severity, threshold: number) => string;
  readonly firstCheck: string;
  /** Upper bound of the graph's axis (percentages). */
  readonly max?: number;
}

/**
 * Health of the environment's PostgreSQL instance: warning and critical alarms (thresholds from config) on
 * CPU, free storage (GiB and % of allocated), freeable memory, connections, read and write latency and disk
 * queue depth; a critical alarm when the instance publishes no metrics at all (stopped, deleted, or a wrong
 * identifier in config, which would otherwise leave every other alarm silently without data); RDS event
 * subscriptions to the alert topics; and the dashboard section.
 *
 * Missing data: the threshold alarms treat it as missing (a gap neither pages nor resolves an incident);
 * silence itself is the metrics-missing alarm's job, so one outage gives one page, not fifteen.
 */
export class DatabaseHealth extends Construct {
  readonly dashboardSection: DashboardSection;
  /** Every alarm this construct created. */
  readonly alarms: readonly cloudwatch.Alarm[];
  /** RDS event subscriptions by topic; a severity with no category (see RDS_EVENT_CATEGORIES) has none. */
  readonly eventSubscriptions: Partial<Record<Severity, rds.CfnEventSubscription>>;
  /** The CloudWatch dimension value (RDS reports identifiers in lower case). */
  readonly instanceIdentifier: string;

  constructor(scope: Construct, id: string, props: DatabaseHealthProps) {
    super(scope, id);
    const cfg = props.config;
    const instance = Token.isUnresolved(props.instanceIdentifier)
      ? props.instanceIdentifier
      : props.instanceIdentifier.toLowerCase();
    this.instanceIdentifier = instance;
    const period = Duration.minutes(cfg.periodMinutes);
    const evaluationPeriods = cfg.evaluationPeriods;
    const datapointsToAlarm = cfg.datapointsToAlarm ?? cfg.evaluationPeriods;
    const sustained = `${datapointsToAlarm} of ${evaluationPeriods} ${cfg.periodMinutes}-minute periods`;

    const rdsMetric = (metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/RDS',
        metricName,
        dimensionsMap: { DBInstanceIdentifier: instance },
        statistic,
        period,
        label,
      });
    const scaled = (metricName: string, statistic: string, expression: string, label: string) =>
      new cloudwatch.MathExpression({
        expression,
        usingMetrics: { m: rdsMetric(metricName, statistic, metricName) },
        label,
        period,
      });
    const autoscaling =
      props.maxAllocatedStorageGiB !== undefined && props.maxAllocatedStorageGiB > props.allocatedStorageGiB;
    const storageSize = autoscaling
      ? `${props.allocatedStorageGiB}-${props.maxAllocatedStorageGiB} autoscaling`
      : `${props.allocatedStorageGiB} allocated`;
    if (autoscaling) {
      Annotations.of(this).addWarningV2(
        'pipeline-guardrails:free-storage-percent-with-autoscaling',
        `Storage autoscales from ${props.allocatedStorageGiB} to ${props.maxAllocatedStorageGiB} GiB: alerting.databaseHealth.freeStoragePercent is not used (the allocated size after deploy is unknown); the freeStorageGiB floors apply.`,
      );
    }
    const freeStorage = freeStorageThresholds(
      cfg.freeStoragePercent,
      cfg.freeStorageGiB,
      autoscaling ? undefined : props.allocatedStorageGiB,
    );
    const instanceCheck = `aws rds describe-db-instances --db-instance-identifier ${instance}`;

    const watched: Watched[] = [
      {
        id: 'Cpu',
        what: 'cpu',
        title: 'CPU utilization (%)',
        unit: '%',
        metric: rdsMetric('CPUUtilization', 'Average', 'CPU %'),
        thresholds: cfg.cpuPercent,
        worseWhen: 'higher',
        max: 100,
        runbookAnchor: 'database-cpu',
        meaning: (_s, t) => `CPU of ${instance} above ${t}% for ${sustained}: queries slow down or time out.`,
        firstCheck: `pg_stat_activity for long-running queries; Performance Insights top SQL of ${instance}.`,
      },
      {
        id: 'FreeStorage',
        what: 'free-storage',
        title: `Free storage (GiB of ${storageSize})`,
        unit: ' GiB',
        metric: scaled('FreeStorageSpace', 'Minimum', `m / ${GIB}`, 'Free storage GiB'),
        thresholds: freeStorage.thresholds,
        worseWhen: 'lower',
        runbookAnchor: 'database-free-storage',
        meaning: (s, t) =>
          `Free storage of ${instance} below ${t} GiB (${freeStorage.explain[s]}): VACUUM, WAL and index builds may no longer fit; at 0 writes stop.`,
        firstCheck: `largest tables, WAL size and replication slots (runbook queries); ${instanceCheck}.`,
      },
      {
        id: 'FreeableMemory',
        what: 'freeable-memory',
        title: 'Freeable memory (MiB)',
        unit: ' MiB',
        metric: scaled('FreeableMemory', 'Minimum', `m / ${MIB}`, 'Freeable memory MiB'),
        thresholds: cfg.freeableMemoryMiB,
        worseWhen: 'lower',
        runbookAnchor: 'database-freeable-memory',
        meaning: (_s, t) =>
          `Freeable memory of ${instance} below ${t} MiB for ${sustained}: swapping, then out-of-memory restarts.`,
        firstCheck: `connection count and work_mem-heavy queries in pg_stat_activity; SwapUsage of ${instance}.`,
      },
      {
        id: 'Connections',
        what: 'connections',
        title: 'Connections',
        unit: '',
        metric: rdsMetric('DatabaseConnections', 'Maximum', 'Connections'),
        thresholds: cfg.connections,
        worseWhen: 'higher',
        runbookAnchor: 'database-connections',
        meaning: (_s, t) =>
          `More than ${t} connections to ${instance} for ${sustained}: near max_connections new sessions (checks, pipeline) are refused.`,
        firstCheck: `SELECT usename, application_name, state, count(*) FROM pg_stat_activity GROUP BY 1, 2, 3.`,
      },
      {
        id: 'ReadLatency',
        what: 'read-latency',
        title: 'Read latency (ms)',
        unit: ' ms',
        metric: scaled('ReadLatency', 'Average', '1000 * m', 'Read latency ms'),
        thresholds: cfg.readLatencyMs,
        worseWhen: 'higher',
        runbookAnchor: 'database-latency',
        meaning: (_s, t) =>
          `Average read latency of ${instance} above ${t} ms for ${sustained}: storage is saturated or throttled.`,
        firstCheck: `ReadIOPS, ReadThroughput and DiskQueueDepth of ${instance} on the dashboard; sequential scans in pg_stat_user_tables.`,
      },
      {
        id: 'WriteLatency',
        what: 'write-latency',
        title: 'Write latency (ms)',
        unit: ' ms',
        metric: scaled('WriteLatency', 'Average', '1000 * m', 'Write latency ms'),
        thresholds: cfg.writeLatencyMs,
        worseWhen: 'higher',
        runbookAnchor: 'database-latency',
        meaning: (_s, t) =>
          `Average write latency of ${instance} above ${t} ms for ${sustained}: storage is saturated or throttled.`,
        firstCheck: `WriteIOPS, WriteThroughput and DiskQueueDepth of ${instance}; bulk loads or VACUUM in pg_stat_activity.`,
      },
      {
        id: 'DiskQueueDepth',
        what: 'disk-queue-depth',
        title: 'Disk queue depth',
        unit: '',
        metric: rdsMetric('DiskQueueDepth', 'Average', 'Disk queue depth'),
        thresholds: cfg.diskQueueDepth,
        worseWhen: 'higher',
        runbookAnchor: 'database-disk-queue-depth',
        meaning: (_s, t) =>
          `More than ${t} I/Os waiting on the storage of ${instance} for ${sustained}: requests queue behind the disk.`,
        firstCheck: `ReadIOPS and WriteIOPS against the volume's provisioned IOPS; the queries running in pg_stat_activity.`,
      },
      {
        id: 'TransactionIds',
        what: 'transaction-id-wraparound',
        title: 'Transaction ids used (wraparound at ~2.1 billion)',
        unit: '',
        metric: rdsMetric('MaximumUsedTransactionIDs', 'Maximum', 'Used transaction ids'),
        thresholds: cfg.transactionIdsUsed,
        worseWhen: 'higher',
        runbookAnchor: 'database-transaction-id-wraparound',
        meaning: (_s, t) =>
          `${instance} has used more than ${t} transaction ids since its oldest unfrozen row: near 2^31 PostgreSQL stops accepting writes until a VACUUM FREEZE completes.`,
        firstCheck: `SELECT datname, age(datfrozenxid) FROM pg_database ORDER BY 2 DESC; then the oldest tables and what blocks autovacuum.`,
      },
      {
        id: 'TransactionLogs',
        what: 'transaction-logs',
        title: 'Transaction logs on disk (GiB)',
        unit: ' GiB',
        metric: scaled('TransactionLogsDiskUsage', 'Maximum', `m / ${GIB}`, 'WAL on disk GiB'),
        thresholds: cfg.transactionLogsGiB,
        worseWhen: 'higher',
        runbookAnchor: 'database-transaction-logs',
        meaning: (_s, t) =>
          `More than ${t} GiB of WAL on the disk of ${instance}: a replication slot, archiving or a long transaction retains it, and free storage shrinks.`,
        firstCheck: `OldestReplicationSlotLag on the dashboard; SELECT slot_name, active FROM pg_replication_slots;`,
      },
      {
        id: 'ReplicationSlotLag',
        what: 'replication-slot-lag',
        title: 'Oldest replication slot lag (GiB)',
        unit: ' GiB',
        metric: scaled('OldestReplicationSlotLag', 'Maximum', `m / ${GIB}`, 'Slot lag GiB'),
        thresholds: cfg.replicationSlotLagGiB,
        worseWhen: 'higher',
        runbookAnchor: 'database-replication-slot-lag',
        meaning: (_s, t) =>
          `A replication slot of ${instance} retains more than ${t} GiB of WAL: its consumer is gone or behind, and the WAL fills the disk.`,
        firstCheck: `SELECT slot_name, active, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) FROM pg_replication_slots;`,
      },
    ];

    const created: cloudwatch.Alarm[] = [];
    for (const w of watched) {
      const made = props.alarms.createSeverityAlarms(this, w.id, {
        area: 'database',
        what: w.what,
        metric: w.metric,
        thresholds: w.thresholds,
        comparisonOperator:
          w.worseWhen === 'higher'
            ? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
            : cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods,
        datapointsToAlarm,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
        meaning: w.meaning,
        firstCheck: w.firstCheck,
        runbookAnchor: w.runbookAnchor,
      });
      for (const alarm of [made.warning, made.critical]) if (alarm) created.push(alarm);
    }

    // Silence: no CPU datapoint at all for the window. Checked at a 1-minute period (RDS publishes every
    // minute) over at least METRICS_MISSING_MIN_MINUTES, so late datapoints do not page.
    const missingPeriods = Math.max(cfg.periodMinutes * cfg.evaluationPeriods, METRICS_MISSING_MIN_MINUTES);
    created.push(
      props.alarms.createAlarm(this, 'MetricsMissing', {
        area: 'database',
        what: 'metrics-missing',
        // A stopped, failed or deleted instance already pages once through the checker's heartbeat (it cannot
        // connect); what is left for this alarm (a wrong identifier in config, a metrics outage) is mail.
        severity: 'warning',
        metric: new cloudwatch.Metric({
          namespace: 'AWS/RDS',
          metricName: 'CPUUtilization',
          dimensionsMap: { DBInstanceIdentifier: instance },
          statistic: 'SampleCount',
          period: Duration.minutes(1),
          label: 'CPU datapoints per minute',
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: missingPeriods,
        datapointsToAlarm: missingPeriods,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        meaning: `${instance} has published no metrics for ${missingPeriods} minutes: it is stopped, deleted, renamed, or the identifier in config is wrong, and every other database alarm is blind.`,
        firstCheck: `${instanceCheck} --query 'DBInstances[0].DBInstanceStatus'.`,
        runbookAnchor: 'database-metrics-missing',
      }),
    );
    this.alarms = created;

    const subscribe = (severity: Severity) => {
      const topic = props.topics.topicFor(severity);
      const subscription = new rds.CfnEventSubscription(
        this,
        severity === 'critical' ? 'CriticalEvents' : 'WarningEvents',
        {
          subscriptionName: `${props.namePrefix}-database-${severity}-events`,
          snsTopicArn: topic.topicArn,
          sourceType: 'db-instance',
          sourceIds: [instance],
          eventCategories: [...RDS_EVENT_CATEGORIES[severity]],
          enabled: true,
        },
      );
      // Created after the topic policy, so RDS is allowed to publish from its first event on.
      subscription.node.addDependency(topic);
      return subscription;
    };
    this.eventSubscriptions = Object.fromEntries(
      (['critical', 'warning'] as const)
        .filter((severity) => RDS_EVENT_CATEGORIES[severity].length > 0)
        .map((severity) => [severity, subscribe(severity)]),
    );

    const graph = (w: Watched, width: number) =>
      new cloudwatch.GraphWidget({
        title: w.title,
        left: [w.metric],
        leftAnnotations: thresholdLines(w.thresholds, w.worseWhen, w.unit),
        leftYAxis: { min: 0, ...(w.max === undefined ? {} : { max: w.max }), showUnits: false },
        legendPosition: cloudwatch.LegendPosition.HIDDEN,
        width,
        height: 6,
      });
    const byId = (wid: string): Watched => {
      const found = watched.find((w) => w.id === wid);
      if (!found) throw new Error(`DatabaseHealth: no watched metric ${wid}`);
      return found;
    };
    this.dashboardSection = {
      title: `Database health: ${instance}`,
      description:
        'Lines mark the warning (orange) and critical (red) thresholds. Storage and memory alarm when they fall below theirs; the rest when they rise above.',
      rows: [
        [graph(byId('Cpu'), 8), graph(byId('Connections'), 8), graph(byId('FreeableMemory'), 8)],
        [
          graph(byId('FreeStorage'), 8),
          graph(byId('TransactionLogs'), 8),
          graph(byId('ReplicationSlotLag'), 8),
        ],
        [graph(byId('ReadLatency'), 8), graph(byId('WriteLatency'), 8), graph(byId('DiskQueueDepth'), 8)],
        [graph(byId('TransactionIds'), 8)],
      ],
    };
  }
}

/**
 * One free-storage alarm per severity in GiB: the higher of the GiB floor and the percentage of the
 * allocated size, so one cause (storage filling up) gives one alarm per severity, not one per rule.
 * `allocatedGiB` undefined (autoscaling): the GiB floors only.
 */
export function freeStorageThresholds(
  percent: SeverityThresholdsConfig,
  gib: SeverityThresholdsConfig,
  allocatedGiB: number | undefined,
): { thresholds: SeverityThresholds; explain: Record<Severity, string> } {
  const pick = (severity: Severity): [number | undefined, string] => {
    const floor = gib[severity];
    const pct = allocatedGiB === undefined ? undefined : percent[severity];
    const fromPct = pct === undefined || allocatedGiB === undefined ? undefined : (pct * allocatedGiB) / 100;
    if (floor === undefined && fromPct === undefined) return [undefined, ''];
    if (fromPct === undefined || (floor !== undefined && floor >= fromPct))
      return [floor, `the ${severity} floor of ${floor} GiB`];
    return [Math.round(fromPct * 100) / 100, `${pct}% of ${allocatedGiB} GiB allocated`];
  };
  const [warning, warningWhy] = pick('warning');
  const [critical, criticalWhy] = pick('critical');
  // Different rules may pick the thresholds: keep the warning above the critical one, or drop it.
  const ordered = warning === undefined || critical === undefined || warning > critical;
  return {
    thresholds: { warning: ordered ? warning : undefined, critical },
    explain: { warning: warningWhy, critical: criticalWhy },
  };
}
