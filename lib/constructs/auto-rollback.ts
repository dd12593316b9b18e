import { Aws, Duration, Token, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { accept } from '../nag/acknowledge';
import { resourcePrefix } from '../project';
import type { AlarmFactory } from './alarm-factory';
import type { DashboardSection } from './dashboard-section';
import { GuardrailsFunction, lambdaEntry } from './guardrails-function';
import {
  grantStateItems,
  grantTrafficChange,
  ROLLOUT_STATE_KEYS,
  TOPIC_KEY_REASON,
  type RolloutTrafficProps,
} from './progressive-rollout';

export interface AutoRollbackProps {
  readonly envName: string;
  readonly traffic: RolloutTrafficProps;
  /** Green's service-level alarms (exact names): any entering ALARM takes green out of traffic. */
  readonly greenAlarmNames: readonly string[];
  /** The critical composite alarm (`<project>-<env>-critical-any`): entering ALARM does the same. */
  readonly criticalCompositeAlarmName: string;
  readonly stateTable: dynamodb.ITable;
  /** Paged after every automatic rollback (and when one fails). */
  readonly criticalTopic: sns.ITopic;
  /** The rollout state machine whose running plan is stopped (ARN and name, for its executions' ARNs). */
  readonly stateMachine: { readonly stateMachineArn: string; readonly stateMachineName: string };
  readonly alarms: AlarmFactory;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /** docs/RUNBOOK.md as the on-call person opens it; linked from the page. @default none */
  readonly runbookUrl?: string;
}

/**
 * Automatic rollback. An EventBridge rule on "CloudWatch Alarm State Change" events of green's
 * service-level alarms and the critical composite alarm (state ALARM) invokes a function that sets 100%
 * blue, stops any running rollout plan, records `auto-rollback` in the shift audit and pages.
 *
 * The path depends on nothing that may be failing: no green, no database, no VPC, no CLI. The function's
 * role can change that listener and the weights parameter(s), touch the shift and plan items of the
 * state table, list and stop that state machine's executions and publish to the critical topic; nothing else.
 */
export class AutoRollback extends Construct {
  readonly function: GuardrailsFunction;
  readonly rule: events.Rule;
  /** Events the rule could not deliver and runs that failed after Lambda's retries. */
  readonly deadLetterQueue: sqs.Queue;
  /** The alarm names the rule matches. */
  readonly watchedAlarmNames: readonly string[];
  readonly dashboardSection: DashboardSection;

  constructor(scope: Construct, id: string, props: AutoRollbackProps) {
    super(scope, id);
    const prefix = resourcePrefix(props.envName);
    this.watchedAlarmNames = [props.criticalCompositeAlarmName, ...props.greenAlarmNames];
    const errors: string[] = [];
    if (props.greenAlarmNames.length === 0)
      errors.push("greenAlarmNames: got none, expected green's service-level alarm names");
    for (const n of this.watchedAlarmNames) {
      if (!Token.isUnresolved(n) && !n.startsWith(`${prefix}-`))
        errors.push(
          `alarm ${JSON.stringify(n)}: expected a name starting with ${prefix}- (this environment's)`,
        );
    }
    if (new Set(this.watchedAlarmNames).size !== this.watchedAlarmNames.length)
      errors.push(`alarm names: got duplicates in ${this.watchedAlarmNames.join(', ')}`);
    if (errors.length > 0) throw new Error(`AutoRollback (${props.envName}): ${errors.join('; ')}`);

    this.function = new GuardrailsFunction(this, 'Function', {
      entry: lambdaEntry('auto-rollback', 'handler.ts'),
      description: `${prefix}: on a green or critical alarm, set 100% blue, stop the rollout plan, audit, page`,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      timeout: Duration.seconds(30),
      // Lambda CPU scales with memory: 1 GB loads the bundled SDK clients several times faster than 256 MB,
      // which is most of a cold start. The function runs a few times a year; the cost is nil.
      memorySize: 1024,
      environment: {
        ENV_NAME: props.envName,
        STATE_TABLE_NAME: props.stateTable.tableName,
        LISTENER_ARN: props.traffic.listenerArn,
        BLUE_TARGET_GROUP_ARN: props.traffic.blueTargetGroupArn,
        GREEN_TARGET_GROUP_ARN: props.traffic.greenTargetGroupArn,
        RULE_ARN: props.traffic.ruleArn,
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        CRITICAL_TOPIC_ARN: props.criticalTopic.topicArn,
        ...(props.runbookUrl ? { RUNBOOK_URL: props.runbookUrl } : {}),
      },
    });
    const fn = this.function.function;
    grantTrafficChange(fn, props.traffic);
    grantStateItems(fn, props.stateTable, ROLLOUT_STATE_KEYS);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListThePlans',
        actions: ['states:ListExecutions'],
        resources: [props.stateMachine.stateMachineArn],
      }),
    );
    const executions = `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${props.stateMachine.stateMachineName}:*`;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StopThePlans',
        actions: ['states:StopExecution'],
        resources: [executions],
      }),
    );
    props.criticalTopic.grantPublish(fn);
    Validations.of(fn).acknowledge(
      { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: TOPIC_KEY_REASON },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'elasticloadbalancing:DescribeRules (the listener shape check and the read-back) supports no resource-level permission; it is read-only. cloudwatch:PutMetricData has none either: it is limited to the project namespace by condition.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${props.stateMachine.stateMachineName}:*]`,
        reason:
          'Execution names are generated per plan; the pattern is limited to executions of the rollout state machine.',
      },
    );

    this.rule = new events.Rule(this, 'Rule', {
      ruleName: `${prefix}-auto-rollback`,
      description: `${prefix}: green or critical alarm in ALARM -> 100% blue`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: {
          alarmName: [...this.watchedAlarmNames],
          state: { value: ['ALARM'] },
        },
      },
    });
    // No lost events: what EventBridge cannot deliver, and what the function failed on after Lambda's
    // retries, lands in this queue, and anything in it pages (a rollback that may not have happened).
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    accept.deadLetterQueue(
      this.deadLetterQueue,
      'This queue is itself the dead-letter queue of the auto-rollback rule target and function; anything in it pages.',
    );
    this.rule.addTarget(
      new targets.LambdaFunction(fn, {
        // Lambda's async retries cover a failed run; these cover a failed delivery.
        retryAttempts: 4,
        maxEventAge: Duration.minutes(10),
        deadLetterQueue: this.deadLetterQueue,
      }),
    );
    // Set on purpose: two retries (the run is idempotent), and an event older than 15 minutes is not acted
    // on blindly but parked in the queue for a person (it pages).
    fn.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.minutes(15),
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });

    const failures = new cloudwatch.MathExpression({
      expression: 'FILL(errors, 0) + FILL(failed, 0) + FILL(dead, 0)',
      label: 'auto-rollback errors + failed deliveries + dead-lettered events',
      period: Duration.minutes(1),
      usingMetrics: {
        errors: fn.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
        failed: new cloudwatch.Metric({
          namespace: 'AWS/Events',
          metricName: 'FailedInvocations',
          dimensionsMap: { RuleName: this.rule.ruleName },
          period: Duration.minutes(1),
          statistic: 'Sum',
        }),
        dead: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
      },
    });
    props.alarms.createAlarm(this, 'FailedAlarm', {
      area: 'rollout',
      what: 'auto-rollback-failed',
      severity: 'critical',
      metric: failures,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning:
        'The automatic rollback failed, EventBridge could not invoke it, or an event reached its dead-letter queue: green may still be in traffic while its alarm fires.',
      firstCheck: `npm run shift -- --env ${props.envName} --status; if green > 0, roll back by hand: --rollback --yes`,
      runbookAnchor: 'auto-rollback-failed',
    });

    this.dashboardSection = {
      title: 'Automatic rollback',
      description: `Runs when ${this.watchedAlarmNames.length} watched alarms enter ALARM; each run set 100% blue and paged.`,
      rows: [
        [
          new cloudwatch.GraphWidget({
            title: 'Automatic rollbacks',
            width: 12,
            left: [
              fn.metricInvocations({ period: Duration.minutes(5), statistic: 'Sum', label: 'runs' }),
              fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum', label: 'errors' }),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Auto-rollback duration (ms)',
            width: 12,
            left: [fn.metricDuration({ period: Duration.minutes(5), statistic: 'Maximum', label: 'max' })],
          }),
        ],
      ],
    };
  }
}
