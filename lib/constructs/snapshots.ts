import {
  Annotations,
  Duration,
  Stack,
  Token,
  Validations,
  type CfnElement,
  type RemovalPolicy,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { snapshotIntervalMinutes, type SnapshotsConfig } from '../config/sections/snapshots';
import { METRIC_NAMESPACE, resourcePrefix } from '../project';
import type { AlarmFactory } from './alarm-factory';
import type { AlertTopics } from './alert-topics';
import type { DashboardSection } from './dashboard-section';
import { publishDeploymentParameter } from './deployment-parameter';
import { GuardrailsFunction, lambdaEntry } from './guardrails-function';
import {
  createToolSnapshotStatements,
  ownedSnapshotConditions,
  ownershipTagConditions,
  snapshotTagOnCreateStatement,
} from './snapshot-iam';
import { grantSnapshotDrillSupport, type SnapshotDrillSupport } from './restore-drill';

/** Minutes between the upkeep runs (copies, pruning, metrics); the age alarms evaluate at this period. */
export const MAINTAIN_EVERY_MINUTES = 15;
/** Extra slack for a copy: it starts at the next upkeep run after the snapshot is available, then copies. */
export const COPY_LAG_MINUTES = 120;

export interface SnapshotsProps {
  readonly config: SnapshotsConfig;
  readonly envName: string;
  /** The instance's own region (the environment's region). */
  readonly region: string;
  /** RDS identifier of the primary instance the snapshots are taken of. */
  readonly instanceIdentifier: string;
  readonly alarms: AlarmFactory;
  readonly topics: AlertTopics;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /** Manifests at snapshot time and the restore drill's leak sweep. @default neither */
  readonly drillSupport?: SnapshotDrillSupport;
}

/**
 * Snapshot automation of one environment: EventBridge Scheduler runs one function on the configured
 * schedule (take a `scheduled` snapshot) and every 15 minutes (start cross-region copies, prune by
 * retention in both regions, publish count, age and failure metrics). Alarms watch the age of the newest
 * snapshot (per region), failures and the manual-snapshot quota; an RDS event subscription mails the
 * instance's backup events. IAM lets the function snapshot only the configured instance and delete only
 * snapshots whose name has the tool's prefix AND whose `managed-by` tag says the tool made them.
 */
export class Snapshots extends Construct {
  readonly function: GuardrailsFunction;
  readonly snapshotSchedule: scheduler.Schedule;
  readonly maintainSchedule: scheduler.Schedule;
  readonly eventSubscription: rds.CfnEventSubscription;
  readonly newestTooOldAlarm: cloudwatch.Alarm;
  readonly failureAlarm: cloudwatch.Alarm;
  readonly quotaAlarm: cloudwatch.Alarm;
  readonly copyTooOldAlarm?: cloudwatch.Alarm;
  readonly copyQuotaAlarm?: cloudwatch.Alarm;
  /** Longest gap between scheduled snapshots, in minutes. */
  readonly intervalMinutes: number;
  readonly dashboardSection: DashboardSection;

  constructor(scope: Construct, id: string, props: SnapshotsProps) {
    super(scope, id);
    const { config, envName, region } = props;
    const prefix = resourcePrefix(envName);
    const copy = config.copy;
    this.intervalMinutes = snapshotIntervalMinutes(config);

    this.function = new GuardrailsFunction(this, 'Function', {
      entry: lambdaEntry('snapshots', 'handler.ts'),
      description: `${prefix}: takes, copies, prunes and verifies RDS snapshots of ${props.instanceIdentifier}`,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      timeout: Duration.minutes(5),
      // One run at a time: two overlapping upkeep runs could both start the same copy.
      reservedConcurrentExecutions: 1,
      environment: {
        ENV_NAME: envName,
        INSTANCE_IDENTIFIER: props.instanceIdentifier,
        QUOTA_LIMIT: String(config.quota.limit),
        RETENTION: JSON.stringify(config.retention),
        ...(copy
          ? {
              COPY_REGION: copy.region,
              COPY_KMS_KEY_ARN: copy.kmsKeyArn,
              COPY_RETENTION: JSON.stringify(copy.retention ?? config.retention),
            }
          : {}),
      },
    });
    this.grantLeastPrivilege(props);
    if (props.drillSupport) grantSnapshotDrillSupport(this.function.function, envName, props.drillSupport);
    // No Lambda retries of a failed run: a retried `snapshot` run could take a second snapshot, and the
    // upkeep runs again within 15 minutes anyway.
    this.function.function.configureAsyncInvoke({ retryAttempts: 0 });
    const keyAccount = copy?.kmsKeyArn.split(':')[4];
    const account = Stack.of(this).account;
    if (copy && !Token.isUnresolved(account) && keyAccount !== account) {
      Annotations.of(this).addWarningV2(
        'pipeline-guardrails:snapshot-copy-key-other-account',
        `snapshots.copy.kmsKeyArn ${copy.kmsKeyArn} belongs to account ${keyAccount}, not ${account}: its key policy must let this account's snapshot function use it (kms:CreateGrant, kms:DescribeKey), or every copy fails.`,
      );
    }

    // The scheduler's own role may invoke this function (and its versions) and nothing else.
    const fn = this.function.function;
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Lets EventBridge Scheduler invoke the ${envName} snapshot function`,
    });
    Validations.of(scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason:
        'lambda:InvokeFunction on this one function and its versions/aliases (the grantInvoke pattern).',
    });
    const target = (action: 'snapshot' | 'maintain') =>
      new targets.LambdaInvoke(fn, {
        role: scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({ action }),
        // The handler absorbs its own failures (they become metrics); retries cover invocation errors only.
        retryAttempts: 2,
        maxEventAge: Duration.minutes(MAINTAIN_EVERY_MINUTES),
      });
    this.snapshotSchedule = new scheduler.Schedule(this, 'SnapshotSchedule', {
      scheduleName: `${prefix}-snapshot`,
      description: `${prefix}: scheduled RDS snapshot of ${props.instanceIdentifier}`,
      schedule: scheduler.ScheduleExpression.expression(config.schedule),
      target: target('snapshot'),
    });
    this.maintainSchedule = new scheduler.Schedule(this, 'MaintainSchedule', {
      scheduleName: `${prefix}-snapshot-upkeep`,
      description: `${prefix}: copy, prune and verify snapshots`,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(MAINTAIN_EVERY_MINUTES)),
      target: target('maintain'),
    });

    publishDeploymentParameter(
      this,
      'FunctionNameParameter',
      envName,
      'snapshots/function-name',
      fn.functionName,
      'Snapshot function (invoke with {"action":"maintain"} to copy, prune and verify now)',
    );

    // Backup events of the instance (including failures of automated backups) are mailed.
    this.eventSubscription = new rds.CfnEventSubscription(this, 'BackupEvents', {
      subscriptionName: `${prefix}-snapshot-events`,
      snsTopicArn: props.topics.warning.topicArn,
      sourceType: 'db-instance',
      sourceIds: [props.instanceIdentifier],
      eventCategories: ['backup'],
      enabled: true,
    });

    // Alarms.
    const metric = (metricName: string, statistic: string, dimensionsMap: Record<string, string>) =>
      new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName,
        statistic,
        dimensionsMap,
        period: Duration.minutes(MAINTAIN_EVERY_MINUTES),
      });
    const inRegion = (r: string) => ({ Environment: envName, Region: r });
    const ageThreshold = this.intervalMinutes + config.graceMinutes;
    const ageMetric = (r: string) => metric('NewestSnapshotAgeMinutes', 'Maximum', inRegion(r));
    const countMetric = (r: string) => metric('ManualSnapshotCount', 'Maximum', inRegion(r));
    const quotaThreshold = Math.floor((config.quota.limit * config.quota.alarmPercent) / 100);

    this.newestTooOldAlarm = props.alarms.createAlarm(this, 'NewestTooOld', {
      area: 'snapshots',
      what: 'newest-too-old',
      severity: 'critical',
      metric: ageMetric(region),
      threshold: ageThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      // Silence means the upkeep stopped or no snapshot exists: either way nothing guards the data.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      meaning: `The newest available snapshot of ${props.instanceIdentifier} is older than ${ageThreshold} minutes (schedule interval ${this.intervalMinutes} + grace ${config.graceMinutes}), or the snapshot function stopped reporting.`,
      firstCheck: `aws rds describe-db-snapshots --db-instance-identifier ${props.instanceIdentifier} --snapshot-type manual, then the ${prefix} snapshot function's log group.`,
      runbookAnchor: 'snapshots-too-old',
    });
    const failures = new cloudwatch.MathExpression({
      label: 'snapshot failures + function errors',
      expression: 'FILL(failures, 0) + FILL(errors, 0)',
      usingMetrics: {
        failures: metric('SnapshotFailures', 'Sum', { Environment: envName }),
        errors: this.function.function.metricErrors({
          period: Duration.minutes(MAINTAIN_EVERY_MINUTES),
          statistic: 'Sum',
        }),
      },
      period: Duration.minutes(MAINTAIN_EVERY_MINUTES),
    });
    this.failureAlarm = props.alarms.createAlarm(this, 'Failed', {
      area: 'snapshots',
      what: 'failed',
      severity: 'warning',
      metric: failures,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No run, no failure: the newest-too-old alarm (missing data breaching) covers a silent function.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning:
        'A snapshot, copy or deletion failed, RDS marked a snapshot failed, or the snapshot function crashed.',
      firstCheck: `The ${prefix} snapshot function's log group: level "error" lines name the snapshot and the AWS error.`,
      runbookAnchor: 'snapshots-failed',
    });
    this.quotaAlarm = props.alarms.createAlarm(this, 'Quota', {
      area: 'snapshots',
      what: 'quota',
      severity: 'warning',
      metric: countMetric(region),
      threshold: quotaThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning: `${region} holds ${quotaThreshold} or more manual DB snapshots (${config.quota.alarmPercent}% of the ${config.quota.limit} allowed); at the limit new snapshots, including pre-shift ones, are refused.`,
      firstCheck: `npm run snapshot -- --env ${envName} --prune --dry-run, and who else keeps manual snapshots in ${region}.`,
      runbookAnchor: 'snapshots-quota',
    });
    if (copy) {
      const copyThreshold = ageThreshold + COPY_LAG_MINUTES;
      this.copyTooOldAlarm = props.alarms.createAlarm(this, 'CopyTooOld', {
        area: 'snapshots',
        what: 'copy-too-old',
        severity: 'warning',
        metric: ageMetric(copy.region),
        threshold: copyThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        meaning: `The newest available copy in ${copy.region} is older than ${copyThreshold} minutes: copies are failing or not being started.`,
        firstCheck: `aws rds describe-db-snapshots --region ${copy.region} --snapshot-type manual, and the function's "copy failed" log lines.`,
        runbookAnchor: 'snapshots-copy-too-old',
      });
      this.copyQuotaAlarm = props.alarms.createAlarm(this, 'CopyQuota', {
        area: 'snapshots',
        what: 'copy-quota',
        severity: 'warning',
        metric: countMetric(copy.region),
        threshold: quotaThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        meaning: `${copy.region} (the copy region) holds ${quotaThreshold} or more manual DB snapshots; at the limit copies are refused.`,
        firstCheck: `npm run snapshot -- --env ${envName} --prune --dry-run, and who else keeps manual snapshots in ${copy.region}.`,
        runbookAnchor: 'snapshots-quota',
      });
    }

    const regions = copy ? [region, copy.region] : [region];
    this.dashboardSection = {
      title: 'Snapshots',
      description: `Age of the newest snapshot must stay under ${ageThreshold} min; manual snapshots per region under ${quotaThreshold} of ${config.quota.limit}.`,
      rows: [
        [
          new cloudwatch.GraphWidget({
            title: 'Newest snapshot age (minutes)',
            left: regions.map((r) => ageMetric(r).with({ label: r })),
            leftAnnotations: [{ value: ageThreshold, label: 'alarm', color: cloudwatch.Color.RED }],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Manual snapshots per region',
            left: regions.map((r) => countMetric(r).with({ label: r })),
            leftAnnotations: [
              {
                value: quotaThreshold,
                label: `${config.quota.alarmPercent}% of quota`,
                color: cloudwatch.Color.ORANGE,
              },
              { value: config.quota.limit, label: 'quota', color: cloudwatch.Color.RED },
            ],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Failures, deletions, copies',
            left: [
              failures,
              ...regions.map((r) =>
                metric('SnapshotsDeleted', 'Sum', inRegion(r)).with({ label: `deleted ${r}` }),
              ),
              metric('SnapshotCopiesStarted', 'Sum', { Environment: envName }).with({
                label: 'copies started',
              }),
            ],
            width: 8,
          }),
        ],
      ],
    };
  }

  /**
   * Cross-region copy (the call is made in the copy region; the SDK adds the presigned URL that lets RDS
   * read the source in this region on the caller's behalf). Each permission and its source:
   * - `rds:CopyDBSnapshot` on the source (tool snapshots only, by name and tags) and on the target name in
   *   the copy region (only with the tool's tags): Service Authorization Reference for Amazon RDS,
   *   CopyDBSnapshot (resource type `snapshot`, condition keys aws:RequestTag, aws:TagKeys, rds:req-tag).
   * - `rds:AddTagsToResource` on the target: the same entry lists it as a dependent action, and the RDS
   *   User Guide ("Grant permission to tag Amazon RDS resources during creation") says RDS authorizes it
   *   whenever the create call carries Tags.
   * - `rds:CrossRegionCommunication`: listed as a dependent action of CopyDBSnapshot and as "permission
   *   only" (no API, no resource type, so `*`) for cross-region operations such as snapshot copy.
   * - `kms:DescribeKey` + `kms:CreateGrant` on the copy key, only through RDS in the copy region
   *   (`kms:ViaService`) and, for grants, only grants for an AWS resource (`kms:GrantIsForAWSResource`):
   *   RDS User Guide, "Copying a DB snapshot" (an encrypted cross-region copy needs a KMS key in the
   *   destination region) and the AWS KMS Developer Guide's condition keys.
   * - The same two on the source snapshot's key (the instance's storage key, which the config does not
   *   name, so `key/*` of this account and region), only through RDS in this region.
   */
  private grantCrossRegionCopy(
    props: SnapshotsProps,
    ownSnapshots: (region: string) => string,
    ownTag: Record<string, Record<string, unknown>>,
  ): void {
    const copy = props.config.copy;
    if (!copy) return;
    const { envName, region } = props;
    const stack = Stack.of(this);
    const role = this.function.function;
    const copyTags = { envName, sourceRegion: true };
    role.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CopyOnlyOwnSourceSnapshots',
        actions: ['rds:CopyDBSnapshot'],
        resources: [ownSnapshots(region)],
        conditions: ownTag,
      }),
    );
    role.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CopyIntoPrefixedTaggedCopies',
        actions: ['rds:CopyDBSnapshot'],
        resources: [ownSnapshots(copy.region)],
        conditions: ownershipTagConditions(copyTags),
      }),
    );
    role.addToRolePolicy(
      snapshotTagOnCreateStatement('TagCopiesOnCreate', [ownSnapshots(copy.region)], copyTags),
    );
    role.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CrossRegionCopy',
        actions: ['rds:CrossRegionCommunication'],
        resources: ['*'],
      }),
    );
    role.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DescribeTheCopyKeyThroughRds',
        actions: ['kms:DescribeKey'],
        resources: [copy.kmsKeyArn],
        conditions: { StringEquals: { 'kms:ViaService': `rds.${copy.region}.amazonaws.com` } },
      }),
    );
    role.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'GrantTheCopyKeyToRds',
        actions: ['kms:CreateGrant'],
        resources: [copy.kmsKeyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `rds.${copy.region}.amazonaws.com` },
          Bool: { 'kms:GrantIsForAWSResource': 'true' },
        },
      }),
    );
    role.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSourceSnapshotKeyThroughRds',
        actions: ['kms:DescribeKey', 'kms:CreateGrant'],
        resources: [`arn:${stack.partition}:kms:${region}:${stack.account}:key/*`],
        conditions: {
          StringEquals: {
            'kms:ViaService': `rds.${region}.amazonaws.com`,
            'kms:CallerAccount': stack.account,
          },
        },
      }),
    );
  }

  private grantLeastPrivilege(props: SnapshotsProps): void {
    const { envName, region } = props;
    const stack = Stack.of(this);
    const copy = props.config.copy;
    const rdsArn = (r: string, resource: string) =>
      `arn:${stack.partition}:rds:${r}:${stack.account}:${resource}`;
    const ownSnapshots = (r: string) => rdsArn(r, `snapshot:${resourcePrefix(envName)}-*`);
    const ownTag = ownedSnapshotConditions(envName);
    const role = this.function.function;
    // Create (and tag on create) only snapshots of the configured instance, named with the tool's prefix
    // and carrying exactly the tool's tags; no tagging of any DB instance.
    for (const statement of createToolSnapshotStatements(
      'Snapshot',
      rdsArn(region, `db:${props.instanceIdentifier}`),
      [ownSnapshots(region)],
      { envName },
    )) {
      role.addToRolePolicy(statement);
    }
    role.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListSnapshotsForQuotaAndRetention',
        actions: ['rds:DescribeDBSnapshots'],
        resources: ['*'],
      }),
    );
    role.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DeleteOnlyOwnSnapshots',
        actions: ['rds:DeleteDBSnapshot'],
        resources: copy ? [ownSnapshots(region), ownSnapshots(copy.region)] : [ownSnapshots(region)],
        conditions: ownTag,
      }),
    );
    role.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PublishSnapshotMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
      }),
    );
    if (copy) this.grantCrossRegionCopy(props, ownSnapshots, ownTag);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'rds:DescribeDBSnapshots must list every manual snapshot of the region (the quota counts them all); cloudwatch:PutMetricData has no resource type and is limited to the PipelineGuardrails namespace by condition; rds:CrossRegionCommunication (with a copy region) is permission-only with no resource type.',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:${region}:${stack.account}:snapshot:${resourcePrefix(envName)}-*]`,
      reason:
        "Snapshot names carry a timestamp, so the tool's own snapshots are matched by prefix; create/tag/copy also need exactly the tool's request tags, delete needs the tool's managed-by and environment tags on the snapshot.",
    });
    if (copy) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:${copy.region}:${stack.account}:snapshot:${resourcePrefix(envName)}-*]`,
        reason:
          "Copies keep the source name, so they are matched by the tool's prefix in the copy region; creating needs the tool's request tags, deleting its managed-by tag.",
      });
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${region}:${stack.account}:key/*]`,
        reason:
          "The source snapshot's key is the instance's storage key, which the config does not name; the grant is usable only through RDS in this region (kms:ViaService).",
      });
    }
  }
}
