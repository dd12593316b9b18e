import type { Template } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../../../lib/config';
import { serviceHealthSchema } from '../../../lib/config/sections/alerting';
import { synthEnvironment, type SynthResult } from '../../support/app';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('ServiceHealthAlarms and PlatformHealthAlarms (prod)', () => {
  let prod: SynthResult;
  let t: Template;
  beforeAll(() => {
    prod = synthEnvironment('prod');
    t = prod.guardrails;
  });
  const critical = { Ref: expect.stringMatching('AlertTopicsCritical') };
  const warning = { Ref: expect.stringMatching('AlertTopicsWarning') };
  const alarm = (what: string): Json => {
    const found = Object.values(
      t.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: `pipeline-guardrails-prod-${what}` },
      }),
    );
    expect(found).toHaveLength(1);
    return (found[0] as Json).Properties;
  };

  it('warns below the desired healthy tasks and pages when a color has none, per color', () => {
    for (const color of ['blue', 'green']) {
      expect(alarm(`service-${color}-healthy-tasks-warning`)).toMatchObject({
        MetricName: 'HealthyHostCount',
        Namespace: 'AWS/ApplicationELB',
        Statistic: 'Minimum',
        Threshold: 2,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        EvaluationPeriods: 5,
        AlarmActions: [warning],
      });
      expect(alarm(`service-${color}-healthy-tasks-critical`)).toMatchObject({
        Threshold: 1,
        AlarmActions: [critical],
      });
    }
    // staging's colors want one task: no "below desired" warning there, only the critical one.
    const staging = synthEnvironment('staging').stacks.guardrails.alarms.alarms.map((a) => a.alarmName);
    expect(staging).toContain('pipeline-guardrails-staging-service-green-healthy-tasks-critical');
    expect(staging).not.toContain('pipeline-guardrails-staging-service-green-healthy-tasks-warning');
  });

  it('watches ECS CPU and memory per service, the load balancer 5xx and rejected connections, the certificate', () => {
    expect(alarm('service-green-cpu-warning')).toMatchObject({
      Namespace: 'AWS/ECS',
      MetricName: 'CPUUtilization',
      Threshold: 80,
      Dimensions: expect.arrayContaining([expect.objectContaining({ Name: 'ServiceName' })]),
    });
    expect(alarm('service-blue-memory-warning')).toMatchObject({
      MetricName: 'MemoryUtilization',
      Threshold: 85,
    });
    expect(alarm('service-load-balancer-5xx-warning').Metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Expression: 'IF(requests > 0, 100 * FILL(elb5xx, 0) / requests, 0)' }),
      ]),
    );
    expect(alarm('service-rejected-connections-warning')).toMatchObject({
      MetricName: 'RejectedConnectionCount',
      Threshold: 1,
    });
    expect(alarm('service-certificate-expiry-critical')).toMatchObject({
      Namespace: 'AWS/CertificateManager',
      MetricName: 'DaysToExpiry',
      Dimensions: [{ Name: 'CertificateArn', Value: loadConfig('prod').routing.loadBalancer.certificateArn }],
      Threshold: 7,
      Period: 86400,
      AlarmActions: [critical],
    });
    expect(alarm('service-certificate-expiry-warning').Threshold).toBe(30);
    // dev has no certificate: no expiry alarm.
    const dev = synthEnvironment('dev').stacks.guardrails.alarms.alarms.map((a) => a.alarmName);
    expect(dev.some((n) => n.includes('certificate-expiry'))).toBe(false);
  });

  it('mails once when SNS cannot deliver a page, and on functions near their timeout or throttled', () => {
    // One alarm per failed page: the critical topic's redrive queue, mailed (the pager path cannot page about
    // itself); SNS's NumberOfNotificationsFailed of the same deliveries is graphed only.
    const undelivered = Object.values(t.findResources('AWS::CloudWatch::Alarm'))
      .map((a) => (a as Json).Properties)
      .filter((p: Json) => /undelivered/.test(p.AlarmName));
    expect(undelivered).toEqual([
      expect.objectContaining({
        AlarmName: 'pipeline-guardrails-prod-alerting-critical-undelivered',
        Namespace: 'AWS/SQS',
        AlarmActions: [warning],
        TreatMissingData: 'notBreaching',
      }),
      expect.objectContaining({
        AlarmName: 'pipeline-guardrails-prod-alerting-warning-undelivered',
        AlarmActions: [warning],
      }),
    ]);
    // The checker's timeout is 60 s in prod: 80% is 48 s.
    expect(alarm('functions-data-checks-duration')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Statistic: 'Maximum',
      Threshold: 48_000,
      AlarmActions: [warning],
    });
    expect(alarm('functions-snapshots-throttles')).toMatchObject({ MetricName: 'Throttles', Threshold: 1 });
  });

  it('draws every new alarm on the dashboard in its own sections', () => {
    expect(prod.stacks.guardrails.dashboard.sectionTitles).toEqual(
      expect.arrayContaining(['Services and load balancer', 'Guardrails health']),
    );
  });

  it('refuses thresholds in the wrong order or out of range', () => {
    expect(
      serviceHealthSchema.safeParse({ certificateDaysToExpiry: { warning: 5, critical: 10 } }).success,
    ).toBe(false);
    expect(serviceHealthSchema.safeParse({ taskCpuPercent: { warning: 120 } }).success).toBe(false);
    expect(serviceHealthSchema.safeParse({ taskCpuPercent: { warning: 70 } }).success).toBe(true);
  });
});
