import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AlarmFactory } from '../../../lib/constructs/alarm-factory';
import { AlertTopics } from '../../../lib/constructs/alert-topics';
import { AutoRollback, type AutoRollbackProps } from '../../../lib/constructs/auto-rollback';
import type { TriggerAlarm } from '../../../lambda/shared/auto-rollback-policy';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  ProgressiveRollout,
  type ProgressiveRolloutProps,
} from '../../../lib/constructs/progressive-rollout';

/**
 * A test stack with what the rollout constructs need from the rest of the app (topics, alarm factory,
 * state table) and explicit routing values, so the constructs are tested without the routing construct.
 */
export const LISTENER_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/pg-test/0123456789abcdef/fedcba9876543210';
export const BLUE_TG =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/blue/0123456789abcdef';
export const GREEN_TG =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/green/0123456789abcdef';
export const RULE_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener-rule/app/pg-test/0123456789abcdef/fedcba9876543210/0011223344556677';
export const GREEN_ALARMS = [
  'pipeline-guardrails-test-routing-green-5xx-rate',
  'pipeline-guardrails-test-routing-green-p95-latency',
  'pipeline-guardrails-test-routing-green-unhealthy-hosts',
];
export const COMPOSITE = 'pipeline-guardrails-test-critical-any';
/** The auto-rollback's triggers in the fixture: green's alarms (registered as stand-in alarms below). */
export const TRIGGERS: TriggerAlarm[] = [
  { alarmName: GREEN_ALARMS[0]!, triggerClass: 'green-error-rate' },
  { alarmName: GREEN_ALARMS[1]!, triggerClass: 'green-latency' },
  { alarmName: GREEN_ALARMS[2]!, triggerClass: 'green-tasks-below-desired' },
];

export interface RolloutFixtureOptions {
  readonly rollout?: Partial<ProgressiveRolloutProps>;
  readonly autoRollback?: Partial<AutoRollbackProps>;
  /** Run cdk-nag's AwsSolutions pack on synth. */
  readonly nag?: boolean;
}

export function buildRolloutStack(options: RolloutFixtureOptions = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'RolloutTest', { env: { account: '111111111111', region: 'us-east-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const topics = new AlertTopics(stack, 'Topics', {
    config: {
      criticalSubscriptions: [],
      warningSubscriptions: [],
      runbookUrl: 'https://git.example.com/RUNBOOK.md',
    },
    namePrefix: 'pipeline-guardrails-test',
    key,
  });
  const alarms = new AlarmFactory(stack, 'Alarms', {
    topics,
    envName: 'test',
    runbookUrl: 'https://git.example.com/RUNBOOK.md',
  });
  const table = new dynamodb.Table(stack, 'State', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
  });
  const traffic = {
    listenerArn: LISTENER_ARN,
    blueTargetGroupArn: BLUE_TG,
    greenTargetGroupArn: GREEN_TG,
    ruleArn: RULE_ARN,
  };
  const rollout = new ProgressiveRollout(stack, 'Rollout', {
    envName: 'test',
    traffic,
    greenAlarmNames: GREEN_ALARMS,
    criticalCompositeAlarmName: COMPOSITE,
    stateTable: table,
    criticalTopic: topics.critical,
    warningTopic: topics.warning,
    alarms,
    dbInstanceIdentifier: 'nba-test',
    checksMaxAge: Duration.minutes(15),
    logRetention: logs.RetentionDays.ONE_MONTH,
    logRemovalPolicy: RemovalPolicy.DESTROY,
    runbookUrl: 'https://git.example.com/RUNBOOK.md',
    ...options.rollout,
  });
  // Stand-ins for green's alarms (the auto-rollback refuses triggers that are not alarms of the stack).
  for (const [i, name] of GREEN_ALARMS.entries()) {
    alarms.createAlarm(stack, `GreenStandIn${i}`, {
      area: 'routing',
      what: name.replace('pipeline-guardrails-test-routing-', ''),
      severity: 'critical',
      metric: new cloudwatch.Metric({ namespace: 'Test', metricName: `M${i}` }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning: 'test stand-in',
      firstCheck: 'none',
      runbookAnchor: 'routing-error-rate',
    });
  }
  const autoRollback = new AutoRollback(stack, 'AutoRollback', {
    envName: 'test',
    traffic,
    triggers: TRIGGERS,
    triggerClasses: ['green-error-rate', 'green-latency', 'green-tasks-below-desired'],
    watchHours: 24,
    stateTable: table,
    resultTopic: topics.warning,
    stateMachine: rollout,
    alarms,
    logRetention: logs.RetentionDays.ONE_MONTH,
    logRemovalPolicy: RemovalPolicy.DESTROY,
    ...options.autoRollback,
  });
  // The fixture's own stand-ins are not under test; only the rollout constructs' findings are.
  Validations.of(table).acknowledge({ id: 'AwsSolutions-DDB3', reason: 'test fixture' });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, rollout, autoRollback, alarms, topics, table };
}
