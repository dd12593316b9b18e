import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AlarmFactory, type GuardrailAlarmProps } from '../../../lib/constructs/alarm-factory';
import { AlertTopics } from '../../../lib/constructs/alert-topics';

function setup() {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } });
  const topics = new AlertTopics(stack, 'Topics', {
    config: {
      criticalSubscriptions: [{ protocol: 'https', endpoint: 'https://pager.example.com/hook' }],
      warningSubscriptions: [{ protocol: 'email', endpoint: 'team@example.com' }],
      runbookUrl: 'https://git.example.com/RUNBOOK.md',
    },
    namePrefix: 'pipeline-guardrails-test',
    key: new kms.Key(stack, 'Key'),
  });
  const factory = new AlarmFactory(stack, 'Alarms', {
    topics,
    envName: 'test',
    runbookUrl: 'https://git.example.com/RUNBOOK.md',
  });
  return { stack, topics, factory };
}

const base: GuardrailAlarmProps = {
  area: 'checks',
  what: 'rows-lost',
  severity: 'critical',
  metric: new cloudwatch.Metric({ namespace: 'PipelineGuardrails', metricName: 'RowsLost' }),
  threshold: 0,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  meaning: 'Rows disappeared from a critical table.',
  firstCheck: 'the checker log line of the run',
  runbookAnchor: 'checks-rows-lost',
};

describe('AlarmFactory', () => {
  it('names, describes and wires an alarm to the topic of its severity, for ALARM and OK', () => {
    const { stack, factory } = setup();
    factory.createAlarm(stack, 'A', base);
    factory.createAlarm(stack, 'B', { ...base, what: 'stale', severity: 'warning' });
    const t = Template.fromStack(stack);
    const critical = t.findResources('AWS::SNS::Topic', {
      Properties: { TopicName: 'pipeline-guardrails-test-critical' },
    });
    const warning = t.findResources('AWS::SNS::Topic', {
      Properties: { TopicName: 'pipeline-guardrails-test-warning' },
    });
    const [criticalId] = Object.keys(critical);
    const [warningId] = Object.keys(warning);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-checks-rows-lost',
      AlarmDescription: Match.stringLikeRegexp(
        '^\\[CRITICAL\\] Rows disappeared.*\nFirst check: .*\nRunbook: https://git.example.com/RUNBOOK.md#checks-rows-lost$',
      ),
      AlarmActions: [{ Ref: criticalId }],
      OKActions: [{ Ref: criticalId }],
      TreatMissingData: 'notBreaching',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-checks-stale',
      AlarmActions: [{ Ref: warningId }],
      OKActions: [{ Ref: warningId }],
    });
    expect(factory.alarms.map((a) => a.alarmName)).toEqual([
      'pipeline-guardrails-test-checks-rows-lost',
      'pipeline-guardrails-test-checks-stale',
    ]);
  });

  it('refuses names that are not kebab-case, duplicates and over-long descriptions', () => {
    const { stack, factory } = setup();
    expect(() => factory.createAlarm(stack, 'A', { ...base, what: 'Rows Lost' })).toThrow(
      /what "Rows Lost" must be kebab-case/,
    );
    // An area with a hyphen would not parse back (parseAlarmName takes the first segment as the area).
    expect(() => factory.createAlarm(stack, 'A2', { ...base, area: 'data-checks' })).toThrow(
      /area "data-checks" must be one lowercase word/,
    );
    factory.createAlarm(stack, 'B', base);
    expect(() => factory.createAlarm(stack, 'C', base)).toThrow(/already used/);
    expect(() =>
      factory.createAlarm(stack, 'D', { ...base, what: 'long', meaning: 'x'.repeat(1100) }),
    ).toThrow(/max 1024/);
  });

  it('topics are KMS-encrypted, TLS-only and subscribed from config', () => {
    const { stack } = setup();
    const t = Template.fromStack(stack);
    t.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      }),
    });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://pager.example.com/hook',
    });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'team@example.com' });
  });
});

describe('AlarmFactory: thresholds keyed by severity', () => {
  const severityProps = {
    area: 'database',
    what: 'cpu',
    metric: new cloudwatch.Metric({ namespace: 'AWS/RDS', metricName: 'CPUUtilization' }),
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.MISSING,
    meaning: (severity: string, threshold: number) => `CPU above ${threshold}% (${severity}).`,
    firstCheck: 'pg_stat_activity',
    runbookAnchor: 'database-cpu',
  };

  it('creates one alarm per configured severity, on that severity topic, named <area>-<what>-<severity>', () => {
    const { stack, factory } = setup();
    const made = factory.createSeverityAlarms(stack, 'Cpu', {
      ...severityProps,
      thresholds: { warning: 80, critical: 95 },
    });
    expect(made.warning).toBeDefined();
    expect(made.critical).toBeDefined();
    expect(factory.alarmsOf('critical').map((a) => a.alarmName)).toEqual([
      'pipeline-guardrails-test-database-cpu-critical',
    ]);
    expect(factory.alarmsOf('warning').map((a) => a.alarmName)).toEqual([
      'pipeline-guardrails-test-database-cpu-warning',
    ]);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-database-cpu-critical',
      Threshold: 95,
      AlarmDescription: Match.stringLikeRegexp('^\\[CRITICAL\\] CPU above 95% \\(critical\\)\\.'),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-database-cpu-warning',
      Threshold: 80,
      AlarmDescription: Match.stringLikeRegexp('^\\[WARNING\\] CPU above 80% \\(warning\\)\\.'),
    });
  });

  it('creates only the severities that have a threshold', () => {
    const { stack, factory } = setup();
    const made = factory.createSeverityAlarms(stack, 'Cpu', {
      ...severityProps,
      thresholds: { critical: 95 },
    });
    expect(made.warning).toBeUndefined();
    expect(factory.alarms.map((a) => a.alarmName)).toEqual([
      'pipeline-guardrails-test-database-cpu-critical',
    ]);
  });

  it('refuses thresholds in the wrong order for the comparison, and no threshold at all', () => {
    const { stack, factory } = setup();
    expect(() =>
      factory.createSeverityAlarms(stack, 'Cpu', {
        ...severityProps,
        thresholds: { warning: 95, critical: 80 },
      }),
    ).toThrow(/database-cpu: warning threshold 95 must be below critical threshold 80/);
    expect(() =>
      factory.createSeverityAlarms(stack, 'Storage', {
        ...severityProps,
        what: 'free-storage',
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        thresholds: { warning: 10, critical: 20 },
      }),
    ).toThrow(/database-free-storage: warning threshold 10 must be above critical threshold 20/);
    expect(() =>
      factory.createSeverityAlarms(stack, 'Storage', {
        ...severityProps,
        what: 'free-storage',
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        thresholds: { warning: 20, critical: 10 },
      }),
    ).not.toThrow();
    expect(() => factory.createSeverityAlarms(stack, 'None', { ...severityProps, thresholds: {} })).toThrow(
      /neither a warning nor a critical threshold/,
    );
  });
});

describe('AlarmFactory: the critical composite', () => {
  it('is in ALARM when any critical alarm is, including ones created after it, and has no actions', () => {
    const { stack, factory } = setup();
    const first = factory.createAlarm(stack, 'A', base);
    factory.createAlarm(stack, 'W', { ...base, what: 'stale', severity: 'warning' });
    const composite = factory.createCriticalComposite(stack, 'Composite');
    const later = factory.createAlarm(stack, 'B', { ...base, what: 'heartbeat-missing' });
    const t = Template.fromStack(stack);
    const ids = [first, later].map((a) => stack.getLogicalId(a.node.defaultChild as cloudwatch.CfnAlarm));
    t.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmName: 'pipeline-guardrails-test-critical-any',
      AlarmRule: {
        'Fn::Join': [
          '',
          [
            '(ALARM("',
            { 'Fn::GetAtt': [ids[0], 'Arn'] },
            '") OR ALARM("',
            { 'Fn::GetAtt': [ids[1], 'Arn'] },
            '"))',
          ],
        ],
      },
      AlarmDescription: Match.stringLikeRegexp('Runbook: https://git.example.com/RUNBOOK.md#critical-any$'),
      AlarmActions: Match.absent(),
      OKActions: Match.absent(),
    });
    expect(stack.resolve(composite.alarmName)).toEqual({
      Ref: stack.getLogicalId(composite.node.defaultChild as cloudwatch.CfnCompositeAlarm),
    });
  });

  it('fails synth when there is no critical alarm to watch', () => {
    const { stack, factory } = setup();
    factory.createAlarm(stack, 'W', { ...base, what: 'stale', severity: 'warning' });
    factory.createCriticalComposite(stack, 'Composite');
    expect(() => Template.fromStack(stack)).toThrow(/critical-any has no critical alarm to watch/);
  });

  it('fails synth when the rule would exceed CloudWatch limit', () => {
    const { stack, factory } = setup();
    for (let i = 0; i < 120; i++)
      factory.createAlarm(stack, `A${i}`, { ...base, what: `rows-lost-table-${i}` });
    factory.createCriticalComposite(stack, 'Composite');
    expect(() => Template.fromStack(stack)).toThrow(
      /would watch 120 critical alarms.*CloudWatch allows 10240/,
    );
  });
});

describe('AlarmFactory.holdPageWhile', () => {
  const target = {
    ...base,
    area: 'routing',
    what: 'blue-error-rate',
    metric: new cloudwatch.Metric({
      namespace: 'AWS/ApplicationELB',
      metricName: 'HTTPCode_Target_5XX_Count',
      period: Duration.minutes(1),
    }),
    evaluationPeriods: 3,
  };
  const holderProps = { ...base, what: 'database-unreachable', severity: 'warning' as const };
  const hold = {
    area: 'routing',
    what: 'blue-error-rate',
    holderLatency: Duration.minutes(11),
    extensionPeriod: Duration.minutes(5),
    reason: 'the database is unreachable',
  };

  it('moves the page to a composite alarm suppressed while the holder is in ALARM', () => {
    const { stack, factory } = setup();
    factory.createAlarm(stack, 'Target', target);
    const holder = factory.createAlarm(stack, 'Holder', holderProps);
    const page = factory.holdPageWhile(stack, 'Page', { ...hold, holder });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pipeline-guardrails-test-routing-blue-error-rate',
      AlarmActions: Match.absent(),
      OKActions: Match.absent(),
    });
    // Waits 11 minutes minus the target's fastest 3 x 60 s for the holder.
    expect(page.waitPeriod.toSeconds()).toBe(480);
    t.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmName: 'pipeline-guardrails-test-routing-blue-error-rate-page',
      ActionsSuppressor: { 'Fn::GetAtt': [Match.stringLikeRegexp('Holder'), 'Arn'] },
      ActionsSuppressorWaitPeriod: 480,
      ActionsSuppressorExtensionPeriod: 300,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('TopicsCritical') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('TopicsCritical') }],
      AlarmDescription: Match.stringLikeRegexp(
        '^\\[CRITICAL\\] .*Held while pipeline-guardrails-test-checks-database-unreachable',
      ),
    });
    expect(factory.heldPages).toEqual([page]);
    // Waits at least 60 s, however fast the holder is.
    const again = setup();
    again.factory.createAlarm(again.stack, 'Target', target);
    const h = again.factory.createAlarm(again.stack, 'Holder', holderProps);
    const quick = again.factory.holdPageWhile(again.stack, 'Page', {
      ...hold,
      holder: h,
      holderLatency: Duration.minutes(1),
    });
    expect(quick.waitPeriod.toSeconds()).toBe(60);
  });

  it('refuses an unknown target, a warning, a holder of another factory and a second hold', () => {
    const { stack, factory } = setup();
    const holder = factory.createAlarm(stack, 'Holder', holderProps);
    expect(() => factory.holdPageWhile(stack, 'P0', { ...hold, holder })).toThrow(
      /no alarm pipeline-guardrails-test-routing-blue-error-rate to hold/,
    );
    factory.createAlarm(stack, 'Mail', { ...target, what: 'mail-only', severity: 'warning' });
    expect(() => factory.holdPageWhile(stack, 'P1', { ...hold, what: 'mail-only', holder })).toThrow(
      /is warning; only a page can be held/,
    );
    factory.createAlarm(stack, 'Target', target);
    const stranger = new cloudwatch.Alarm(stack, 'Stranger', {
      metric: new cloudwatch.Metric({ namespace: 'N', metricName: 'M' }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    expect(() => factory.holdPageWhile(stack, 'P2', { ...hold, holder: stranger })).toThrow(
      /is not an alarm of this factory/,
    );
    factory.holdPageWhile(stack, 'P3', { ...hold, holder });
    expect(() => factory.holdPageWhile(stack, 'P4', { ...hold, holder })).toThrow(/already held/);
  });
});
