import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { loadConfig } from '../../../lib/config';
import type { DatabaseHealthConfig } from '../../../lib/config/sections/alerting';
import { AlarmFactory } from '../../../lib/constructs/alarm-factory';
import { AlertTopics } from '../../../lib/constructs/alert-topics';
import {
  DatabaseHealth,
  freeStorageThresholds,
  RDS_EVENT_CATEGORIES,
} from '../../../lib/constructs/database-health';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const PREFIX = 'pipeline-guardrails-test';
const PROD_HEALTH = loadConfig('prod').alerting.databaseHealth;
const DEV_HEALTH = loadConfig('dev').alerting.databaseHealth;

function setup(config: DatabaseHealthConfig = PROD_HEALTH, instanceIdentifier = 'nba-analytics-prod') {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '333333333333', region: 'us-east-1' } });
  const topics = new AlertTopics(stack, 'Topics', {
    config: { criticalSubscriptions: [], warningSubscriptions: [] },
    namePrefix: PREFIX,
    key: new kms.Key(stack, 'Key'),
  });
  const alarms = new AlarmFactory(stack, 'Alarms', {
    topics,
    envName: 'test',
    runbookUrl: 'https://git.example.com/RUNBOOK.md',
  });
  const health = new DatabaseHealth(stack, 'Health', {
    config,
    instanceIdentifier,
    allocatedStorageGiB: 200,
    alarms,
    topics,
    namePrefix: PREFIX,
  });
  const t = Template.fromStack(stack);
  const topicId = (severity: string) =>
    Object.keys(
      t.findResources('AWS::SNS::Topic', { Properties: { TopicName: `${PREFIX}-${severity}` } }),
    )[0];
  const alarm = (name: string): Json => {
    const found = Object.values(
      t.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: `${PREFIX}-database-${name}` } }),
    );
    expect(found).toHaveLength(1);
    return (found[0] as Json).Properties;
  };
  return { stack, alarms, health, t, topicId, alarm };
}

/** The metric an alarm watches (alarms on labelled metrics are rendered in the Metrics form). */
function watched(p: Json): { metric: string; dimensions: Json; stat: string; period: number } {
  const stat = p.Metrics.find((m: Json) => m.MetricStat).MetricStat;
  return {
    metric: stat.Metric.MetricName,
    dimensions: stat.Metric.Dimensions,
    stat: stat.Stat,
    period: stat.Period,
  };
}

describe('DatabaseHealth', () => {
  it('creates a warning and a critical alarm per configured threshold, plus the metrics-missing alarm', () => {
    const { alarms, health } = setup();
    expect(alarms.alarms.map((a) => a.alarmName.replace(`${PREFIX}-database-`, ''))).toEqual([
      'cpu-warning',
      'cpu-critical',
      'free-storage-warning',
      'free-storage-critical',
      'freeable-memory-warning',
      'freeable-memory-critical',
      'connections-warning',
      'connections-critical',
      'read-latency-warning',
      'read-latency-critical',
      'write-latency-warning',
      'write-latency-critical',
      'disk-queue-depth-warning',
      'transaction-id-wraparound-warning',
      'transaction-id-wraparound-critical',
      'transaction-logs-warning',
      'replication-slot-lag-warning',
      'metrics-missing',
    ]);
    expect(health.alarms).toHaveLength(18);
  });

  it('creates no alarm for a severity the config leaves out', () => {
    const { alarms } = setup(DEV_HEALTH);
    const names = alarms.alarms.map((a) => a.alarmName);
    expect(names).toContain(`${PREFIX}-database-freeable-memory-critical`);
    expect(names).toContain(`${PREFIX}-database-transaction-logs-warning`);
    expect(names).not.toContain(`${PREFIX}-database-transaction-logs-critical`);
  });

  it('watches CPU of the instance with the thresholds, window and missing-data decision from config', () => {
    const { alarm, topicId } = setup();
    expect(watched(alarm('cpu-critical'))).toEqual({
      metric: 'CPUUtilization',
      dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'nba-analytics-prod' }],
      stat: 'Average',
      period: 60,
    });
    expect(alarm('cpu-critical').Metrics[0].MetricStat.Metric.Namespace).toBe('AWS/RDS');
    expect(alarm('cpu-critical')).toMatchObject({
      Threshold: 95,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      TreatMissingData: 'missing',
      AlarmActions: [{ Ref: topicId('critical') }],
      OKActions: [{ Ref: topicId('critical') }],
    });
    expect(alarm('cpu-warning')).toMatchObject({
      Threshold: 80,
      AlarmActions: [{ Ref: topicId('warning') }],
      OKActions: [{ Ref: topicId('warning') }],
    });
    expect(alarm('cpu-critical').AlarmDescription).toMatch(
      /^\[CRITICAL\] CPU of nba-analytics-prod above 95% for 5 of 5 1-minute periods.*\nFirst check: .*\nRunbook: https:\/\/git\.example\.com\/RUNBOOK\.md#database-cpu$/s,
    );
  });

  it('watches free storage with one alarm per severity: the higher of the GiB floor and the percentage', () => {
    const { alarm } = setup();
    // prod: 200 GiB allocated; warning max(30 GiB, 20% = 40 GiB), critical max(10 GiB, 10% = 20 GiB).
    expect(alarm('free-storage-critical')).toMatchObject({
      Threshold: 20,
      ComparisonOperator: 'LessThanThreshold',
      Metrics: expect.arrayContaining([expect.objectContaining({ Expression: `m / ${1024 ** 3}` })]),
    });
    expect(alarm('free-storage-critical').AlarmDescription).toContain('10% of 200 GiB allocated');
    expect(alarm('free-storage-warning').Threshold).toBe(40);
    expect(watched(alarm('free-storage-critical'))).toMatchObject({
      metric: 'FreeStorageSpace',
      stat: 'Minimum',
    });
  });

  it('uses only the GiB floors when storage autoscales, and says so at synth', () => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } });
    const topics = new AlertTopics(stack, 'Topics', {
      config: { criticalSubscriptions: [], warningSubscriptions: [] },
      namePrefix: PREFIX,
      key: new kms.Key(stack, 'Key'),
    });
    const alarms = new AlarmFactory(stack, 'Alarms', {
      topics,
      envName: 'test',
      runbookUrl: 'https://x/R.md',
    });
    new DatabaseHealth(stack, 'Health', {
      config: DEV_HEALTH,
      instanceIdentifier: 'dev-db',
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 50,
      alarms,
      topics,
      namePrefix: PREFIX,
    });
    const names = alarms.alarms.map((a) => a.alarmName.replace(`${PREFIX}-database-`, ''));
    expect(names).toContain('free-storage-critical');
    expect(names).not.toContain('free-storage-warning');
    const critical = alarms.alarms.find((a) => a.alarmName.endsWith('free-storage-critical'));
    expect(critical?.props.threshold).toBe(1);
    Annotations.fromStack(stack).hasWarning(
      '/S/Health',
      Match.stringLikeRegexp('autoscales from 20 to 50 GiB.*freeStoragePercent is not used'),
    );
  });

  it('orders the derived free-storage thresholds, dropping a warning that would not fire first', () => {
    expect(freeStorageThresholds({ warning: 20, critical: 10 }, { critical: 2 }, 100).thresholds).toEqual({
      warning: 20,
      critical: 10,
    });
    // A GiB floor above the percentage's warning: the warning could never fire first, so there is none.
    expect(freeStorageThresholds({ warning: 20, critical: 10 }, { critical: 30 }, 100).thresholds).toEqual({
      warning: undefined,
      critical: 30,
    });
    expect(
      freeStorageThresholds({ warning: 20, critical: 10 }, { critical: 2 }, undefined).thresholds,
    ).toEqual({
      warning: undefined,
      critical: 2,
    });
  });

  it('watches transaction-id wraparound, WAL on disk and replication slot lag', () => {
    const { alarm } = setup();
    expect(watched(alarm('transaction-id-wraparound-critical'))).toMatchObject({
      metric: 'MaximumUsedTransactionIDs',
      stat: 'Maximum',
    });
    expect(alarm('transaction-id-wraparound-critical').Threshold).toBe(1_500_000_000);
    expect(alarm('transaction-id-wraparound-warning').Threshold).toBe(1_000_000_000);
    expect(alarm('transaction-logs-warning')).toMatchObject({
      Threshold: 10,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: expect.arrayContaining([
        expect.objectContaining({
          MetricStat: expect.objectContaining({
            Metric: expect.objectContaining({ MetricName: 'TransactionLogsDiskUsage' }),
          }),
        }),
      ]),
    });
    expect(alarm('replication-slot-lag-warning').Threshold).toBe(5);
  });

  it('converts memory to MiB and latency to milliseconds; connections and queue depth stay raw', () => {
    const { alarm } = setup();
    expect(alarm('freeable-memory-critical')).toMatchObject({
      Threshold: 128,
      ComparisonOperator: 'LessThanThreshold',
      Metrics: expect.arrayContaining([expect.objectContaining({ Expression: `m / ${1024 ** 2}` })]),
    });
    for (const kind of ['read', 'write']) {
      expect(alarm(`${kind}-latency-critical`)).toMatchObject({
        Threshold: 100,
        ComparisonOperator: 'GreaterThanThreshold',
        Metrics: expect.arrayContaining([expect.objectContaining({ Expression: '1000 * m' })]),
      });
    }
    expect(alarm('connections-critical').Threshold).toBe(475);
    expect(watched(alarm('connections-critical'))).toMatchObject({
      metric: 'DatabaseConnections',
      stat: 'Maximum',
    });
    expect(alarm('disk-queue-depth-warning').Threshold).toBe(10);
    expect(watched(alarm('disk-queue-depth-warning'))).toMatchObject({
      metric: 'DiskQueueDepth',
      stat: 'Average',
    });
  });

  it('mails when the instance publishes no metrics at all (missing data breaches), over at least 10 minutes', () => {
    const { alarm, topicId } = setup();
    const prod = alarm('metrics-missing');
    expect(prod.AlarmActions).toEqual([{ Ref: topicId('warning') }]);
    expect(prod).toMatchObject({
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 10,
      DatapointsToAlarm: 10,
      TreatMissingData: 'breaching',
      Metrics: [
        expect.objectContaining({
          MetricStat: expect.objectContaining({
            Metric: expect.objectContaining({ MetricName: 'CPUUtilization' }),
            Stat: 'SampleCount',
            Period: 60,
          }),
        }),
      ],
    });
    // dev evaluates 3 x 5 minutes: the silence window follows it (15 one-minute periods).
    expect(setup(DEV_HEALTH).alarm('metrics-missing').EvaluationPeriods).toBe(15);
  });

  it('uses the lower-case identifier RDS reports, in metrics and event subscriptions', () => {
    const { alarm, t } = setup(PROD_HEALTH, 'NBA-Analytics-Prod');
    expect(watched(alarm('cpu-critical')).dimensions).toEqual([
      { Name: 'DBInstanceIdentifier', Value: 'nba-analytics-prod' },
    ]);
    t.allResourcesProperties('AWS::RDS::EventSubscription', { SourceIds: ['nba-analytics-prod'] });
  });

  it('mails the instance events (none pages: each cause pages once through an alarm), leaving backup to the snapshot capability', () => {
    const { t, topicId, health } = setup();
    t.resourceCountIs('AWS::RDS::EventSubscription', 1);
    expect(health.eventSubscriptions.critical).toBeUndefined();
    t.hasResourceProperties('AWS::RDS::EventSubscription', {
      SubscriptionName: `${PREFIX}-database-warning-events`,
      SnsTopicArn: { Ref: topicId('warning') },
      SourceType: 'db-instance',
      SourceIds: ['nba-analytics-prod'],
      EventCategories: ['failover', 'failure', 'low storage', 'maintenance', 'notification', 'availability'],
      Enabled: true,
    });
    expect([...RDS_EVENT_CATEGORIES.critical, ...RDS_EVENT_CATEGORIES.warning]).not.toContain('backup');
    // The topic policy exists before the subscription starts sending.
    t.hasResource('AWS::RDS::EventSubscription', {
      DependsOn: Match.arrayWith([Match.stringLikeRegexp('^TopicsWarningPolicy')]),
      Properties: Match.objectLike({ SubscriptionName: `${PREFIX}-database-warning-events` }),
    });
  });

  it('exposes a dashboard section with every metric and its threshold lines', () => {
    const { health, stack } = setup();
    const section = health.dashboardSection;
    expect(section.title).toBe('Database health: nba-analytics-prod');
    expect(section.rows).toHaveLength(4);
    for (const row of section.rows) expect(row.reduce((n, w) => n + w.width, 0)).toBeLessThanOrEqual(24);
    const widgets: Json[] = section.rows.flat().flatMap((w) => stack.resolve(w.toJson()));
    expect(widgets.map((w) => w.properties.title)).toEqual([
      'CPU utilization (%)',
      'Connections',
      'Freeable memory (MiB)',
      'Free storage (GiB of 200 allocated)',
      'Transaction logs on disk (GiB)',
      'Oldest replication slot lag (GiB)',
      'Read latency (ms)',
      'Write latency (ms)',
      'Disk queue depth',
      'Transaction ids used (wraparound at ~2.1 billion)',
    ]);
    const cpu = widgets[0];
    expect(cpu.properties.annotations.horizontal).toEqual([
      expect.objectContaining({ value: 80, label: 'warning > 80%' }),
      expect.objectContaining({ value: 95, label: 'critical > 95%' }),
    ]);
    expect(cpu.properties.yAxis.left).toMatchObject({ min: 0, max: 100 });
    for (const w of widgets) expect(w.properties.metrics.length).toBeGreaterThan(0);
  });
});
