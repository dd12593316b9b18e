import {
  Annotations,
  Aspects,
  Aws,
  Duration,
  Stack,
  Token,
  Validations,
  type IAspect,
  type RemovalPolicy,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import {
  AUTO_ROLLBACK_PARAMETER,
  encodeTriggers,
  type DeployedPolicy,
  type TriggerAlarm,
  type TriggerClass,
} from '../../lambda/shared/auto-rollback-policy';
import { accept } from '../nag/acknowledge';
import { resourcePrefix } from '../project';
import type { AlarmFactory } from './alarm-factory';
import type { DashboardSection } from './dashboard-section';
import { publishDeploymentParameter } from './deployment-parameter';
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
  /**
   * The trigger alarms (exact names and classes, see `autoRollbackTriggers`): each entering ALARM takes green
   * out of traffic while the rollback is armed. Every one must be an alarm of `alarms` (checked at synth).
   */
  readonly triggers: readonly TriggerAlarm[];
  /** The configured trigger classes (`routing.autoRollback.triggers`), published for `status`. */
  readonly triggerClasses: readonly TriggerClass[];
  /** Hours after green's last increase the rollback stays armed (`routing.autoRollback.watchHours`). */
  readonly watchHours: number;
  readonly stateTable: dynamodb.ITable;
  /**
   * Where the result of every run is announced: the WARNING topic. The trigger alarm has already paged (one
   * page per cause); a rollback that failed pages through the `auto-rollback-failed` alarm.
   */
  readonly resultTopic: sns.ITopic;
  /** The rollout state machine whose running plan is stopped (ARN and name, for its executions' ARNs). */
  readonly stateMachine: { readonly stateMachineArn: string; readonly stateMachineName: string };
  readonly alarms: AlarmFactory;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /** docs/RUNBOOK.md as the on-call person opens it; linked from the page. @default none */
  readonly runbookUrl?: string;
}

/** EventBridge's default limit on the size of an event pattern (characters; adjustable to 4096). */
export const EVENT_PATTERN_MAX_LENGTH = 2048;

/** The line added to every trigger alarm's description (so its page says what happens next). */
export const TRIGGER_NOTE =
  "Auto-rollback trigger: while armed (a shift or plan running, or within the watch window after green's last increase) traffic is moved to 100% blue within seconds; the result is mailed (warning topic).";

/**
 * Automatic rollback. An EventBridge rule on "CloudWatch Alarm State Change" events (state ALARM) of each
 * trigger alarm, matched by exact name (no composite: a second failure while another alarm is already in
 * ALARM is an event of its own), invokes a function that, while armed, sets 100% blue, stops any running
 * rollout plan, records `auto-rollback` in the shift audit and announces the result on the warning topic.
 *
 * The path depends on nothing that may be failing: no green, no database, no VPC, no CLI. The function's
 * role can change that listener rule, touch the shift, plan and intent items of the state table, list and
 * stop that state machine's executions and publish to the warning topic; nothing else.
 */
export class AutoRollback extends Construct {
  readonly function: GuardrailsFunction;
  readonly rule: events.Rule;
  /** Events the rule could not deliver and runs that failed after Lambda's retries. */
  readonly deadLetterQueue: sqs.Queue;
  /** The alarm names the rule matches (the triggers). */
  readonly watchedAlarmNames: readonly string[];
  /** The rollback's failure alarm (`rollout-auto-rollback-failed`, critical). */
  readonly failedAlarm: cloudwatch.Alarm;
  readonly dashboardSection: DashboardSection;

  constructor(scope: Construct, id: string, props: AutoRollbackProps) {
    super(scope, id);
    const prefix = resourcePrefix(props.envName);
    this.watchedAlarmNames = props.triggers.map((t) => t.alarmName);
    const errors: string[] = [];
    if (props.triggers.length === 0)
      errors.push('triggers: got none, expected at least one trigger alarm (routing.autoRollback.triggers)');
    if (!Token.isUnresolved(props.watchHours) && !(props.watchHours >= 0 && props.watchHours <= 168))
      errors.push(`watchHours: got ${props.watchHours}, expected 0 to 168`);
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
      description: `${prefix}: on a trigger alarm while armed, set 100% blue, stop the rollout plan, audit, announce`,
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
        RESULT_TOPIC_ARN: props.resultTopic.topicArn,
        TRIGGERS: encodeTriggers(prefix, props.triggers),
        WATCH_HOURS: String(props.watchHours),
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
    props.resultTopic.grantPublish(fn);
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
      description: `${prefix}: a trigger alarm of green in ALARM -> 100% blue (while armed)`,
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
    this.failedAlarm = props.alarms.createAlarm(this, 'FailedAlarm', {
      area: 'rollout',
      what: 'auto-rollback-failed',
      severity: 'critical',
      metric: failures,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Any failure in the last 5 minutes: Lambda retries a failed run after about 1 and 3 minutes, so one
      // failing rollback stays one ALARM (one page) until the event is dead-lettered, which keeps it there.
      evaluationPeriods: 5,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning:
        'The automatic rollback failed, EventBridge could not invoke it, or an event reached its dead-letter queue: green may still be in traffic while its alarm fires.',
      firstCheck: `npm run shift -- --env ${props.envName} --status; if green > 0, roll back by hand: --rollback --yes`,
      runbookAnchor: 'auto-rollback-failed',
    });

    // Every trigger is an alarm of this stack (names built from config must not drift from the constructs),
    // and the rule's pattern fits EventBridge's limit.
    const pattern = JSON.stringify(Stack.of(this).resolve(this.rule._renderEventPattern()));
    this.node.addValidation({
      validate: () => {
        const registered = new Set(props.alarms.alarms.map((a) => a.alarmName));
        const missing = this.watchedAlarmNames.filter((n) => !registered.has(n));
        const problems = missing.map(
          (n) =>
            `AutoRollback (${props.envName}): trigger ${n} is not an alarm of this stack (a construct renamed or dropped it)`,
        );
        if (pattern.length > EVENT_PATTERN_MAX_LENGTH)
          problems.push(
            `AutoRollback (${props.envName}): routing.autoRollback.triggers: ${this.watchedAlarmNames.length} trigger alarms make an event pattern of ${pattern.length} characters, expected at most ${EVENT_PATTERN_MAX_LENGTH} (EventBridge's default): remove trigger classes or tables`,
          );
        return problems;
      },
    });
    const policy: DeployedPolicy = { watchHours: props.watchHours, triggers: props.triggerClasses };
    publishDeploymentParameter(
      this,
      'PolicyParameter',
      props.envName,
      AUTO_ROLLBACK_PARAMETER,
      JSON.stringify(policy),
      'Automatic rollback policy: watch window (hours) and trigger classes (status reads it)',
    );
    // The trigger's own page says what happens next.
    Aspects.of(Stack.of(this)).add(new TriggerNote(new Set(this.watchedAlarmNames)));

    this.dashboardSection = {
      title: 'Automatic rollback',
      description: `Runs when one of ${this.watchedAlarmNames.length} trigger alarms enters ALARM; while armed it sets 100% blue (result mailed), disarmed it leaves traffic alone.`,
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

/** Adds TRIGGER_NOTE to the description of each trigger alarm (within CloudWatch's 1024 characters). */
class TriggerNote implements IAspect {
  constructor(private readonly names: ReadonlySet<string>) {}

  visit(node: IConstruct): void {
    if (!(node instanceof cloudwatch.CfnAlarm)) return;
    const name = node.alarmName;
    if (typeof name !== 'string' || !this.names.has(name)) return;
    const description = node.alarmDescription ?? '';
    if (typeof description !== 'string' || description.includes(TRIGGER_NOTE)) return;
    const lines = description.split('\n');
    // Before the runbook link, which stays the last line.
    const at = lines.findIndex((l) => l.startsWith('Runbook:'));
    lines.splice(at < 0 ? lines.length : at, 0, TRIGGER_NOTE);
    const next = lines.join('\n');
    if (next.length <= 1024) node.alarmDescription = next;
    else
      Annotations.of(node).addWarningV2(
        'pipeline-guardrails:trigger-note-too-long',
        `${name}: its description has no room for the auto-rollback note (1024 characters)`,
      );
  }
}
