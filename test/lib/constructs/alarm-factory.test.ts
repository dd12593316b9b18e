import { App, Stack } from 'aws-cdk-lib';
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
    namePrefix: 'pipeline-guardrails-test',
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
