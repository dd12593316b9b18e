import { Aws, Duration, Stack, Validations, type CfnElement, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sfnTasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  DRILL_METRICS,
  DRILL_RESULT_PK,
  DRILL_STATE_MACHINE_PARAMETER,
  drillExecutionLimitMinutes,
  drillInstancePrefix,
  drillSecretName,
  DRILL_TAG_REASON_VALUE,
  MANIFEST_PK_PREFIX,
  VERIFY_TIMEOUT_MINUTES,
} from '../../lambda/restore-drill/names';
import type { ChecksConfig } from '../config';
import type { DrillConfig } from '../config/sections/snapshots';
import { METRIC_NAMESPACE, PROJECT, resourcePrefix } from '../project';
import type { AlarmFactory } from './alarm-factory';
import { LAMBDA_CA_BUNDLE } from './data-checks';
import type { DashboardSection } from './dashboard-section';
import type { Database } from './database';
import { publishDeploymentParameter } from './deployment-parameter';
import { GuardrailsFunction, lambdaEntry } from './guardrails-function';
import { TOPIC_KEY_REASON } from './progressive-rollout';
import { accept } from '../nag/acknowledge';
import { restrictTrustToStateMachine } from './state-machine-trust';

export interface RestoreDrillProps {
  readonly envName: string;
  readonly config: DrillConfig;
  /** The environment's checks: the same tables, floors and rules verify the restored copy. */
  readonly checks: ChecksConfig;
  readonly vpc: ec2.IVpc;
  /** Where the copy and the verifier run: the private subnets. */
  readonly subnets: ec2.SubnetSelection;
  /** The guarded database (its port and database name; its snapshots are what the drill restores). */
  readonly database: Pick<Database, 'port' | 'databaseName'>;
  /** The environment's state table: snapshot manifests (read) and drill results (written). */
  readonly stateTable: dynamodb.ITable;
  readonly alarms: AlarmFactory;
  /** Direct page when the cleanup itself fails (an instance may be left running). */
  readonly criticalTopic: sns.ITopic;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/** Seconds between checks of the restore (RDS restores take minutes to hours). */
export const RESTORE_POLL_SECONDS = 60;
/** Seconds between checks of the password change. */
export const CREDENTIALS_POLL_SECONDS = 30;

/**
 * The restore drill of one environment: a Step Functions state machine, started on the configured
 * schedule or on demand (`npm run snapshot -- --drill`), that restores a snapshot of the tool into an
 * isolated drill instance (prefixed, tagged, small, private, encrypted, no deletion protection, its own
 * security group open only to the verifier), sets the copy's master password into a secret of its own,
 * verifies the copy with the data checker against the snapshot's manifest, records timings and outcome,
 * and deletes the instance on every path (success, failed check, timeout, error in any state).
 */
export class RestoreDrill extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineName: string;
  readonly taskFunction: GuardrailsFunction;
  readonly verifierFunction: GuardrailsFunction;
  readonly instanceSecurityGroup: ec2.SecurityGroup;
  readonly verifierSecurityGroup: ec2.SecurityGroup;
  readonly subnetGroup: rds.SubnetGroup;
  readonly credentials: secretsmanager.Secret;
  readonly schedule?: scheduler.Schedule;
  readonly failedAlarm: cloudwatch.Alarm;
  readonly noRecentSuccessAlarm: cloudwatch.Alarm;
  readonly slowRestoreAlarm: cloudwatch.Alarm;
  readonly leakedAlarm: cloudwatch.Alarm;
  readonly dashboardSection: DashboardSection;

  constructor(scope: Construct, id: string, props: RestoreDrillProps) {
    super(scope, id);
    const { envName, config } = props;
    const prefix = resourcePrefix(envName);
    const stack = Stack.of(this);
    this.stateMachineName = `${prefix}-restore-drill`;
    const limitMinutes = drillExecutionLimitMinutes(config.timeoutMinutes);

    // --- Network isolation: the copy admits only the verifier, the verifier reaches only the copy. ---
    this.subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      description: `${prefix}: private subnets of restore-drill instances`,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      subnetGroupName: `${prefix}-drill`,
    });
    this.instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: props.vpc,
      description: `${prefix} restore-drill instances: PostgreSQL from the drill verifier only`,
      allowAllOutbound: false,
    });
    this.verifierSecurityGroup = new ec2.SecurityGroup(this, 'VerifierSecurityGroup', {
      vpc: props.vpc,
      description: `${prefix} restore-drill verifier: PostgreSQL to drill instances, HTTPS to AWS APIs`,
      allowAllOutbound: false,
    });
    this.instanceSecurityGroup.addIngressRule(
      this.verifierSecurityGroup,
      ec2.Port.tcp(props.database.port),
      'PostgreSQL from the restore-drill verifier',
    );
    this.verifierSecurityGroup.addEgressRule(
      this.instanceSecurityGroup,
      ec2.Port.tcp(props.database.port),
      'PostgreSQL to the restored copy',
    );
    this.verifierSecurityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to Secrets Manager and DynamoDB',
    );

    // --- The copy's credentials: written by the drill, read by the verifier; never production's. ---
    this.credentials = new secretsmanager.Secret(this, 'Credentials', {
      secretName: drillSecretName(envName),
      description: `${prefix}: master credentials of the current restore-drill copy (set by the drill on each run)`,
      removalPolicy: props.logRemovalPolicy,
    });
    accept.secretRotatedByItsOwner(
      this.credentials,
      'The drill sets a new random master password on every restored copy and writes it here; the copy lives for hours at most, so there is nothing to rotate.',
    );
    accept.secretWithAwsManagedKey(
      this.credentials,
      "Holds only the password of a throw-away drill copy (deleted within hours); the environment's data key lives in the stateful stack, and granting this stack's roles on it from here would make the two stacks depend on each other.",
    );

    // --- Functions. ---
    this.taskFunction = new GuardrailsFunction(this, 'TaskFunction', {
      entry: lambdaEntry('restore-drill', 'handler.ts'),
      description: `${prefix}: restore-drill tasks (pick, restore, credentials, status, cleanup, record)`,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      timeout: Duration.seconds(60),
      environment: {
        ENV_NAME: envName,
        STATE_TABLE_NAME: props.stateTable.tableName,
        DRILL_INSTANCE_CLASS: config.instanceClass,
        DRILL_SUBNET_GROUP: this.subnetGroup.subnetGroupName,
        DRILL_SECURITY_GROUP_ID: this.instanceSecurityGroup.securityGroupId,
        DRILL_SECRET_ARN: this.credentials.secretArn,
        DRILL_TIMEOUT_MINUTES: String(config.timeoutMinutes),
        DRILL_RTO_MINUTES: String(config.recoveryTimeObjectiveMinutes),
        DB_PORT: String(props.database.port),
      },
    });
    this.verifierFunction = new GuardrailsFunction(this, 'VerifierFunction', {
      entry: lambdaEntry('restore-drill', 'verifier.ts'),
      description: `${prefix}: verifies a restored copy with the data checker against its snapshot manifest`,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      timeout: Duration.minutes(VERIFY_TIMEOUT_MINUTES),
      memorySize: 512,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.verifierSecurityGroup],
      environment: {
        ENV_NAME: envName,
        STATE_TABLE_NAME: props.stateTable.tableName,
        DRILL_SECRET_ARN: this.credentials.secretArn,
        DB_NAME: props.database.databaseName,
        NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE,
      },
    });
    this.grantLeastPrivilege(props);

    // --- State machine. ---
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/${this.stateMachineName}`,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: this.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: `${prefix}: restore a snapshot into an isolated instance, verify it, record, delete it on every path`,
      definitionBody: sfn.DefinitionBody.fromChainable(
        buildDrillDefinition(this, {
          taskFunction: this.taskFunction.function,
          verifierFunction: this.verifierFunction.function,
          criticalTopic: props.criticalTopic,
          envName,
          checks: props.checks,
          sentinel: config.sentinel,
        }),
      ),
      timeout: Duration.minutes(limitMinutes),
      tracingEnabled: true,
      // Errors only, without execution data (as the rollout's): the history stays in Step Functions.
      logs: { destination: logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });
    accept.stateMachineLogsErrorsOnly(
      this.stateMachine,
      'Logs ERROR events only: every drill execution and its state history stays in Step Functions for 90 days; the drill records its result and timings in the state table and as metrics.',
    );
    restrictTrustToStateMachine(this.stateMachine, this.stateMachineName);
    props.criticalTopic.grantPublish(this.stateMachine);
    const logicalId = (f: GuardrailsFunction) =>
      stack.getLogicalId(f.function.node.defaultChild as CfnElement);
    Validations.of(this.stateMachine).acknowledge(
      { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: TOPIC_KEY_REASON },
      ...[this.taskFunction, this.verifierFunction].map((f) => ({
        id: `AwsSolutions-IAM5[Resource::<${logicalId(f)}.Arn>:*]`,
        reason:
          'Step Functions invokes the drill functions by ARN; the generated grant also covers their versions and aliases (":*"), nothing else.',
      })),
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Generated by CDK for X-Ray tracing and for log delivery to CloudWatch Logs (logs:*LogDelivery*), which IAM only grants on "*".',
      },
    );
    publishDeploymentParameter(
      this,
      'StateMachineArnParameter',
      envName,
      DRILL_STATE_MACHINE_PARAMETER.join('/'),
      this.stateMachine.stateMachineArn,
      'Restore drill state machine (npm run snapshot -- --drill)',
    );

    if (config.schedule) {
      const role = new iam.Role(this, 'ScheduleRole', {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
        description: `Lets EventBridge Scheduler start the ${envName} restore drill`,
      });
      this.schedule = new scheduler.Schedule(this, 'Schedule', {
        scheduleName: `${prefix}-restore-drill`,
        description: `${prefix}: scheduled restore drill of the newest snapshot`,
        schedule: scheduler.ScheduleExpression.expression(config.schedule),
        target: new targets.StepFunctionsStartExecution(this.stateMachine, {
          role,
          input: scheduler.ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      });
    }

    // --- Alarms. ---
    const metric = (name: string, statistic: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName: name,
        dimensionsMap: { Environment: envName },
        statistic,
        period,
      });
    const quarter = Duration.minutes(15);
    const failures = new cloudwatch.MathExpression({
      label: 'failed drills',
      // A drill that recorded a failure, or an execution that failed or timed out (even one whose
      // record task never ran).
      expression: 'IF(FILL(succeeded, 1) < 1, 1, 0) + FILL(failed, 0) + FILL(timedOut, 0)',
      usingMetrics: {
        succeeded: metric(DRILL_METRICS.succeeded, 'Minimum', quarter),
        failed: this.stateMachine.metricFailed({ period: quarter, statistic: 'Sum' }),
        timedOut: this.stateMachine.metricTimedOut({ period: quarter, statistic: 'Sum' }),
      },
      period: quarter,
    });
    this.failedAlarm = props.alarms.createAlarm(this, 'FailedAlarm', {
      area: 'drill',
      what: 'failed',
      severity: 'critical',
      metric: failures,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No drill in the period, no failure; the no-recent-success alarm covers drills that stop running.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning:
        'A restore drill failed: the snapshot did not restore, the copy failed a check (rows missing, schema changed, floor, sentinel), the restore timed out, or a drill task failed. The snapshots may not be restorable.',
      firstCheck: `The newest ${this.stateMachineName} execution in the Step Functions console: its error and cause name the failed rule (the result is also in the state table at pk drill#result, sk latest).`,
      runbookAnchor: 'drill-failed',
    });
    this.noRecentSuccessAlarm = props.alarms.createAlarm(this, 'NoRecentSuccessAlarm', {
      area: 'drill',
      what: 'no-recent-success',
      severity: 'warning',
      metric: metric(DRILL_METRICS.daysSinceSuccess, 'Maximum', quarter),
      threshold: config.maxDaysWithoutSuccess,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      // Published by the snapshot upkeep only once a drill has succeeded: silence means none ever did.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      meaning: `No restore drill of ${envName} succeeded in the last ${config.maxDaysWithoutSuccess} days (or none ever did): nothing proves the snapshots restore.`,
      firstCheck: `The ${this.stateMachineName} executions (are drills running? failing?); start one now: npm run snapshot -- --env ${envName} --drill --follow`,
      runbookAnchor: 'drill-no-recent-success',
    });
    this.slowRestoreAlarm = props.alarms.createAlarm(this, 'SlowRestoreAlarm', {
      area: 'drill',
      what: 'restore-slower-than-rto',
      severity: 'warning',
      metric: metric(DRILL_METRICS.restoreMinutes, 'Maximum', Duration.hours(1)),
      threshold: config.recoveryTimeObjectiveMinutes,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning: `The last restore drill took longer than the recovery-time objective of ${config.recoveryTimeObjectiveMinutes} minutes from restore request to available: a real restore would too.`,
      firstCheck:
        'The drill result (restore minutes, snapshot size) and the RDS events of the drill instance; a larger instance class or a smaller database restores faster.',
      runbookAnchor: 'drill-restore-slower-than-rto',
    });

    this.leakedAlarm = props.alarms.createAlarm(this, 'LeakedInstanceAlarm', {
      area: 'drill',
      what: 'leaked-instance',
      severity: 'warning',
      metric: metric(DRILL_METRICS.leakedInstancesDeleted, 'Maximum', quarter),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Published by a snapshot upkeep run that deleted one (missing: nothing leaked); silence is the snapshot alarms' concern.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning: `The snapshot upkeep found a restore-drill instance older than the drill's limit (${limitMinutes} minutes) and deleted it: a drill was stopped or its cleanup failed, and the instance ran (and cost) until now.`,
      firstCheck: `The snapshot function's "leaked drill instance" log lines name the instance; the ${this.stateMachineName} executions show which drill left it.`,
      runbookAnchor: 'drill-leaked-instance',
    });

    const graph = (
      title: string,
      left: cloudwatch.IMetric[],
      annotations: cloudwatch.HorizontalAnnotation[] = [],
    ) => new cloudwatch.GraphWidget({ title, left, leftAnnotations: annotations, width: 8 });
    const day = Duration.days(1);
    this.dashboardSection = {
      title: 'Restore drill',
      description: `A ${config.instanceClass} copy of a snapshot, verified with the data checks and deleted. Restore must stay under ${config.recoveryTimeObjectiveMinutes} min; a drill must succeed at least every ${config.maxDaysWithoutSuccess} days.`,
      rows: [
        [
          graph('Drill outcome (1 = succeeded, 0 = failed)', [
            metric(DRILL_METRICS.succeeded, 'Minimum', day).with({ label: 'succeeded' }),
          ]),
          graph(
            'Drill minutes',
            [
              metric(DRILL_METRICS.restoreMinutes, 'Maximum', day).with({ label: 'restore' }),
              metric(DRILL_METRICS.verifyMinutes, 'Maximum', day).with({ label: 'verify' }),
              metric(DRILL_METRICS.totalMinutes, 'Maximum', day).with({ label: 'total' }),
            ],
            [{ value: config.recoveryTimeObjectiveMinutes, label: 'RTO', color: cloudwatch.Color.ORANGE }],
          ),
          graph('Checks failed, recovery point age, leaks', [
            metric(DRILL_METRICS.checksFailed, 'Maximum', day).with({ label: 'checks failed' }),
            metric(DRILL_METRICS.recoveryPointAgeHours, 'Maximum', day).with({ label: 'snapshot age (h)' }),
            metric(DRILL_METRICS.daysSinceSuccess, 'Maximum', day).with({ label: 'days since success' }),
            metric(DRILL_METRICS.leakedInstancesDeleted, 'Sum', day).with({
              label: 'leaked instances deleted',
            }),
          ]),
        ],
      ],
    };
  }

  private grantLeastPrivilege(props: RestoreDrillProps): void {
    const { envName } = props;
    const prefix = resourcePrefix(envName);
    const arn = (resource: string) => `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    const drillInstances = arn(`db:${drillInstancePrefix(envName)}*`);
    const ownSnapshots = arn(`snapshot:${prefix}-*`);
    const drillTags = {
      'aws:RequestTag/managed-by': PROJECT,
      'aws:RequestTag/environment': envName,
      'aws:RequestTag/reason': DRILL_TAG_REASON_VALUE,
    };
    const onDrillInstance = {
      StringEquals: {
        'rds:db-tag/managed-by': PROJECT,
        'rds:db-tag/environment': envName,
        'rds:db-tag/reason': DRILL_TAG_REASON_VALUE,
      },
    };
    const fn = this.taskFunction.function;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RestoreOnlyTheToolsSnapshots',
        actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
        resources: [ownSnapshots],
        conditions: {
          StringEquals: { 'rds:snapshot-tag/managed-by': PROJECT, 'rds:snapshot-tag/environment': envName },
        },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RestoreOnlyIntoPrefixedTaggedDrillInstances',
        actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
        resources: [drillInstances],
        conditions: {
          StringEquals: drillTags,
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by', 'environment', 'reason'] },
        },
      }),
    );
    // Tag-on-create: RDS checks AddTagsToResource on the new instance for the restore's tags. Its own
    // statement (tagging grants stand alone, test/lib/constructs/snapshot-iam.test.ts), with the same tags.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TagOnlyNewDrillInstancesWithTheDrillTags',
        actions: ['rds:AddTagsToResource'],
        resources: [drillInstances],
        conditions: {
          StringEquals: drillTags,
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['managed-by', 'environment', 'reason'] },
        },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RestoreIntoTheDrillSubnetsWithDefaultGroups',
        actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
        resources: [
          arn(`subgrp:${this.subnetGroup.subnetGroupName}`),
          arn('og:default:postgres-*'),
          arn('pg:default.postgres*'),
        ],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ChangePasswordAndDeleteOnlyDrillInstances',
        actions: ['rds:ModifyDBInstance', 'rds:DeleteDBInstance'],
        resources: [drillInstances],
        conditions: onDrillInstance,
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListSnapshotsAndInstances',
        actions: ['rds:DescribeDBSnapshots', 'rds:DescribeDBInstances'],
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UseTheSnapshotKeyThroughRds',
        actions: ['kms:CreateGrant', 'kms:DescribeKey'],
        resources: [`arn:${Aws.PARTITION}:kms:${Aws.REGION}:${Aws.ACCOUNT_ID}:key/*`],
        conditions: { StringEquals: { 'kms:ViaService': `rds.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PublishDrillMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
      }),
    );
    this.credentials.grantWrite(fn);
    this.credentials.grantRead(this.verifierFunction.function);

    const items = (grantee: iam.IGrantable, sid: string, actions: string[], keys: string[]) =>
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid,
          actions,
          resources: [props.stateTable.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } },
        }),
      );
    items(fn, 'ReadManifests', ['dynamodb:GetItem'], [`${MANIFEST_PK_PREFIX}*`]);
    items(fn, 'WriteDrillResults', ['dynamodb:PutItem'], [DRILL_RESULT_PK]);
    items(this.verifierFunction.function, 'ReadManifests', ['dynamodb:GetItem'], [`${MANIFEST_PK_PREFIX}*`]);
    for (const f of [fn, this.verifierFunction.function]) {
      props.stateTable.encryptionKey?.grant(
        f,
        'kms:Decrypt',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'kms:DescribeKey',
      );
    }

    Validations.of(this.verifierFunction.function).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Generated by CDK for X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords), which IAM only grants on "*".',
    });
    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'rds:DescribeDBSnapshots and rds:DescribeDBInstances list the region (to pick the newest snapshot and find running drills) and have no narrower resource; cloudwatch:PutMetricData has no resource type and is limited to the PipelineGuardrails namespace by condition.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:db:${drillInstancePrefix(envName)}*]`,
        reason:
          "Drill instance names end in the drill's start time; restoring and tagging also need the drill's request tags, modifying and deleting need them on the instance.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:snapshot:${prefix}-*]`,
        reason:
          "The tool's snapshots are matched by prefix (their names carry a timestamp) and must carry its managed-by and environment tags.",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:og:default:postgres-*]',
        reason:
          'A restore attaches the default option group of the engine version; nothing else is granted on it.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:pg:default.postgres*]',
        reason:
          'A restore attaches the default parameter group of the engine family; nothing else is granted on it.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
        reason:
          "The snapshot's key is the instance's storage key, which the config does not name; usable only through RDS in this region (kms:ViaService).",
      },
    );
  }
}

interface DefinitionProps {
  readonly taskFunction: GuardrailsFunction['function'];
  readonly verifierFunction: GuardrailsFunction['function'];
  readonly criticalTopic: sns.ITopic;
  readonly envName: string;
  readonly checks: ChecksConfig;
  readonly sentinel?: DrillConfig['sentinel'];
}

/** Errors worth a retry inside one task; everything else goes to the cleanup. */
const TRANSIENT_ERRORS = [
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalFailure',
  'TimeoutError',
];

/**
 * Start -> Restore -> (Wait, RestoreStatus)* -> SetCredentials -> (Wait, CredentialsStatus)* -> Verify
 * -> Cleanup -> Record -> Passed? Every task before the cleanup catches everything into `$.error` and goes
 * to the cleanup; a cleanup that still fails after its retries pages directly and is recorded.
 */
export function buildDrillDefinition(scope: Construct, p: DefinitionProps): sfn.IChainable {
  const payload = (action: string) =>
    sfn.TaskInput.fromObject({
      action,
      state: sfn.JsonPath.entirePayload,
      execution: { name: sfn.JsonPath.executionName, startTime: sfn.JsonPath.executionStartTime },
    });
  const task = (id: string, action: string, resultPath: string, comment: string) => {
    const t = new sfnTasks.LambdaInvoke(scope, id, {
      lambdaFunction: p.taskFunction,
      comment,
      payload: payload(action),
      payloadResponseOnly: true,
      resultPath,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(90)),
    });
    t.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });
    return t;
  };

  // Cleanup, record, outcome.
  const record = task('Record', 'record', '$.result', 'Publish the drill metrics and write the result.');
  record.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(5), maxAttempts: 3, backoffRate: 2 });
  record.addCatch(
    new sfn.Fail(scope, 'RecordFailed', {
      comment: 'The instance is deleted (or paged about); the result could not be written.',
      error: 'DrillRecordFailed',
      cause: 'The drill result could not be recorded; see the task function logs.',
    }),
    { resultPath: '$.recordError' },
  );
  const cleanup = task(
    'Cleanup',
    'cleanup',
    '$.cleanup',
    'Delete the drill instance (no final snapshot): on every path.',
  );
  cleanup.addRetry({
    errors: ['DrillCleanupPending'],
    interval: Duration.seconds(60),
    maxAttempts: 30,
    backoffRate: 1,
  });
  cleanup.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(5), maxAttempts: 3, backoffRate: 2 });
  const pageCleanupFailed = new sfnTasks.SnsPublish(scope, 'PageCleanupFailed', {
    comment: 'Direct SNS publish: the task function may be what failed.',
    topic: p.criticalTopic,
    subject: `${resourcePrefix(p.envName)}: RESTORE DRILL CLEANUP FAILED`,
    message: sfn.TaskInput.fromText(
      sfn.JsonPath.format(
        `Restore drill {} could not delete its instance {}: it keeps running (and costing) until deleted. Delete it: aws rds delete-db-instance --db-instance-identifier {} --skip-final-snapshot --delete-automated-backups. The snapshot upkeep deletes drill instances older than the drill's limit. Error: {}`,
        sfn.JsonPath.executionName,
        sfn.JsonPath.stringAt('$.drill.instanceId'),
        sfn.JsonPath.stringAt('$.drill.instanceId'),
        sfn.JsonPath.stringAt('$.cleanupError.Cause'),
      ),
    ),
    resultPath: sfn.JsonPath.DISCARD,
  });
  cleanup.addCatch(pageCleanupFailed, { resultPath: '$.cleanupError' });
  pageCleanupFailed.addCatch(record, { resultPath: '$.pageError' });
  pageCleanupFailed.next(record);
  cleanup.next(record);
  const succeeded = new sfn.Succeed(scope, 'DrillSucceeded');
  const failed = new sfn.Fail(scope, 'DrillFailed', {
    comment: 'The copy failed a check, timed out or a task failed; the result says which.',
    errorPath: '$.result.error',
    causePath: '$.result.cause',
  });
  record.next(
    new sfn.Choice(scope, 'Passed?')
      .when(sfn.Condition.booleanEquals('$.result.passed', true), succeeded)
      .otherwise(failed),
  );

  // The drill.
  const start = task(
    'Start',
    'start',
    '$.drill',
    'Pick the snapshot (newest with a manifest, or the one named).',
  );
  const restore = task(
    'Restore',
    'restore',
    '$.restore',
    'Restore into the prefixed, tagged, isolated drill instance.',
  );
  const waitRestore = new sfn.Wait(scope, 'WaitForRestore', {
    time: sfn.WaitTime.duration(Duration.seconds(RESTORE_POLL_SECONDS)),
  });
  const restoreStatus = task(
    'RestoreStatus',
    'restore-status',
    '$.restore',
    'Available yet? Fails on a failed status or past the drill timeout.',
  );
  const setCredentials = task(
    'SetCredentials',
    'credentials',
    '$.credentials',
    "Set a new random master password on the copy and write it to the drill's secret.",
  );
  const waitCredentials = new sfn.Wait(scope, 'WaitForCredentials', {
    time: sfn.WaitTime.duration(Duration.seconds(CREDENTIALS_POLL_SECONDS)),
  });
  const credentialsStatus = task(
    'CredentialsStatus',
    'credentials-status',
    '$.credentials',
    'Password applied (available, nothing pending)?',
  );
  const verify = new sfnTasks.LambdaInvoke(scope, 'Verify', {
    lambdaFunction: p.verifierFunction,
    comment:
      'The data checker on the copy, compared with the snapshot manifest; never throws for a failed rule.',
    payload: sfn.TaskInput.fromObject({
      state: sfn.JsonPath.entirePayload,
      // Only what the verification uses: the tables and the timeouts (no secret ARN, no custom SQL).
      checks: {
        tables: p.checks.tables,
        statementTimeoutSeconds: p.checks.statementTimeoutSeconds,
        lockTimeoutSeconds: p.checks.lockTimeoutSeconds,
      },
      ...(p.sentinel ? { sentinel: p.sentinel } : {}),
    }),
    payloadResponseOnly: true,
    resultPath: '$.verification',
    taskTimeout: sfn.Timeout.duration(Duration.minutes(VERIFY_TIMEOUT_MINUTES + 1)),
  });
  verify.addRetry({
    errors: ['DrillAuthenticationPending'],
    interval: Duration.seconds(30),
    maxAttempts: 6,
    backoffRate: 1,
  });
  verify.addRetry({
    errors: TRANSIENT_ERRORS,
    interval: Duration.seconds(2),
    maxAttempts: 3,
    backoffRate: 2,
  });

  for (const t of [start, restore, restoreStatus, setCredentials, credentialsStatus, verify]) {
    t.addCatch(cleanup, { resultPath: '$.error' });
  }
  const restored = new sfn.Choice(scope, 'Restored?')
    .when(sfn.Condition.booleanEquals('$.restore.available', true), setCredentials)
    .otherwise(waitRestore);
  const credentialsReady = new sfn.Choice(scope, 'CredentialsReady?')
    .when(sfn.Condition.booleanEquals('$.credentials.available', true), verify)
    .otherwise(waitCredentials);
  verify.next(cleanup);
  setCredentials.next(waitCredentials);
  waitCredentials.next(credentialsStatus).next(credentialsReady);
  waitRestore.next(restoreStatus).next(restored);
  return start.next(restore).next(waitRestore);
}

/** What the snapshot function needs for the drill: manifests at snapshot time, and the leak sweep. */
export interface SnapshotDrillSupport {
  /** The state table: the checker's baselines (read) and the manifests (written). */
  readonly stateTable: dynamodb.ITable;
  /** Checked tables (`schema.table`) recorded in each manifest. */
  readonly tableKeys: readonly string[];
  /** With a drill: its execution limit (drill instances older than this are deleted as leaked). */
  readonly drillLimitMinutes?: number;
}

/**
 * Environment and permissions of the snapshot function for the drill: read the checker's baselines
 * (`checks#table#*`), write manifests (`snapshot-manifest#*`), read the last drill result, and, with a
 * drill, list instances and delete only prefixed, drill-tagged instances of this environment.
 */
export function grantSnapshotDrillSupport(
  fn: import('aws-cdk-lib/aws-lambda').Function,
  envName: string,
  support: SnapshotDrillSupport,
): void {
  fn.addEnvironment('STATE_TABLE_NAME', support.stateTable.tableName);
  fn.addEnvironment('MANIFEST_TABLE_KEYS', JSON.stringify(support.tableKeys));
  const items = (sid: string, actions: string[], keys: string[]) =>
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid,
        actions,
        resources: [support.stateTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } },
      }),
    );
  items('ReadCheckerBaselinesForManifests', ['dynamodb:BatchGetItem'], ['checks#table#*']);
  items('WriteSnapshotManifests', ['dynamodb:PutItem'], [`${MANIFEST_PK_PREFIX}*`]);
  support.stateTable.encryptionKey?.grant(
    fn,
    'kms:Decrypt',
    'kms:Encrypt',
    'kms:GenerateDataKey',
    'kms:DescribeKey',
  );
  if (support.drillLimitMinutes === undefined) return;
  fn.addEnvironment('DRILL_LIMIT_MINUTES', String(support.drillLimitMinutes));
  items('ReadLastDrillResult', ['dynamodb:GetItem'], [DRILL_RESULT_PK]);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'FindDrillInstances',
      actions: ['rds:DescribeDBInstances'],
      resources: ['*'],
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'DeleteOnlyLeakedDrillInstances',
      actions: ['rds:DeleteDBInstance'],
      resources: [
        `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:db:${drillInstancePrefix(envName)}*`,
      ],
      conditions: {
        StringEquals: {
          'rds:db-tag/managed-by': PROJECT,
          'rds:db-tag/environment': envName,
          'rds:db-tag/reason': DRILL_TAG_REASON_VALUE,
        },
      },
    }),
  );
  Validations.of(fn).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:db:${drillInstancePrefix(envName)}*]`,
    reason:
      "Drill instance names end in the drill's start time; deletion also needs the drill's managed-by, environment and reason tags on the instance.",
  });
}
