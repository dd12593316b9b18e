import type { Template } from 'aws-cdk-lib/assertions';
import { rawConfig, validateConfig } from '../../../lib/config';
import { BUDGET_THRESHOLDS, settingsHash } from '../../../lib/constructs/cost-guardrails';
import { cloneRaw, synthEnvironment, type SynthResult } from '../../support/app';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const partitioned = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });

describe('CostGuardrails (prod)', () => {
  let prod: SynthResult;
  let t: Template;
  beforeAll(() => {
    prod = synthEnvironment('prod');
    t = prod.guardrails;
  });
  const warningTopic = () =>
    Object.keys(
      t.findResources('AWS::SNS::Topic', { Properties: { TopicName: 'pipeline-guardrails-prod-warning' } }),
    )[0]!;

  it('creates a monthly cost budget on the project and environment tags, mailing at 80%/100% actual and 100% forecast', () => {
    const budgets = Object.values(t.findResources('AWS::Budgets::Budget')) as Json[];
    expect(budgets).toHaveLength(1);
    const p = budgets[0].Properties;
    expect(p.Budget).toEqual({
      BudgetName: `pipeline-guardrails-prod-monthly-${settingsHash(BUDGET_THRESHOLDS)}`,
      BudgetType: 'COST',
      TimeUnit: 'MONTHLY',
      BudgetLimit: { Amount: 300, Unit: 'USD' },
      FilterExpression: {
        And: [
          { Tags: { Key: 'Project', Values: ['pipeline-guardrails'], MatchOptions: ['EQUALS'] } },
          { Tags: { Key: 'Environment', Values: ['prod'], MatchOptions: ['EQUALS'] } },
        ],
      },
    });
    expect(
      p.NotificationsWithSubscribers.map((n: Json) => [
        n.Notification.NotificationType,
        n.Notification.Threshold,
      ]),
    ).toEqual([
      ['ACTUAL', 80],
      ['ACTUAL', 100],
      ['FORECASTED', 100],
    ]);
    for (const n of p.NotificationsWithSubscribers) {
      expect(n.Notification).toMatchObject({
        ComparisonOperator: 'GREATER_THAN',
        ThresholdType: 'PERCENTAGE',
      });
      expect(n.Subscribers).toEqual([{ SubscriptionType: 'SNS', Address: { Ref: warningTopic() } }]);
    }
  });

  it('renames the budget when its notifications change, so the replacement CloudFormation makes succeeds', () => {
    const changed = settingsHash([...BUDGET_THRESHOLDS.slice(0, 2), { type: 'FORECASTED', percent: 90 }]);
    expect(changed).toMatch(/^[0-9a-f]{8}$/);
    expect(changed).not.toBe(settingsHash(BUDGET_THRESHOLDS));
    expect(settingsHash(BUDGET_THRESHOLDS)).toBe(settingsHash([...BUDGET_THRESHOLDS]));
  });

  it('monitors cost anomalies of the project tag and mails them at once to the warning topic', () => {
    const monitor = (Object.values(t.findResources('AWS::CE::AnomalyMonitor')) as Json[])[0].Properties;
    expect(monitor).toMatchObject({ MonitorName: 'pipeline-guardrails-prod-spend', MonitorType: 'CUSTOM' });
    expect(JSON.parse(monitor.MonitorSpecification)).toEqual({
      Tags: { Key: 'Project', Values: ['pipeline-guardrails'], MatchOptions: ['EQUALS'] },
    });
    const sub = (Object.values(t.findResources('AWS::CE::AnomalySubscription')) as Json[])[0].Properties;
    expect(sub).toMatchObject({
      Frequency: 'IMMEDIATE',
      Subscribers: [{ Type: 'SNS', Address: { Ref: warningTopic() } }],
    });
    expect(JSON.parse(sub.ThresholdExpression).Dimensions).toEqual({
      Key: 'ANOMALY_TOTAL_IMPACT_ABSOLUTE',
      MatchOptions: ['GREATER_THAN_OR_EQUAL'],
      Values: ['10'],
    });
  });

  it('lets Budgets and Cost Anomaly Detection of this account publish to the topic and use its key', () => {
    const policy = (Object.values(t.findResources('AWS::SNS::TopicPolicy')) as Json[]).find((p) =>
      p.Properties.Topics.some((x: Json) => x.Ref === warningTopic()),
    );
    const statements: Json[] = policy.Properties.PolicyDocument.Statement;
    const of = (svc: string) => statements.find((s) => s.Principal?.Service === svc);
    expect(of('budgets.amazonaws.com').Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '333333333333' },
      ArnLike: { 'aws:SourceArn': [partitioned(':budgets::333333333333:*')] },
    });
    expect(of('costalerts.amazonaws.com').Condition.ArnLike).toEqual({
      'aws:SourceArn': [partitioned(':ce::333333333333:*')],
    });
    const key = JSON.stringify(prod.stateful.findResources('AWS::KMS::Key'));
    expect(key).toContain('budgets.amazonaws.com');
    expect(key).toContain('costalerts.amazonaws.com');
  });

  it('keeps Container Insights off unless configured', () => {
    t.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'disabled' }],
    });
    const raw = cloneRaw(rawConfig('staging'));
    raw.cost = { monthlyBudgetUsd: 120, containerInsights: true };
    synthEnvironment(validateConfig('staging', raw)).guardrails.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('refuses a missing or non-positive budget, naming the environment and field', () => {
    const raw = cloneRaw(rawConfig('dev')) as Json;
    delete raw.cost;
    expect(() => validateConfig('dev', raw)).toThrow(/dev.*cost/s);
    raw.cost = { monthlyBudgetUsd: 0 };
    expect(() => validateConfig('dev', raw)).toThrow(
      /cost\.monthlyBudgetUsd: got 0, expected a number of US dollars above 0/,
    );
  });
});
