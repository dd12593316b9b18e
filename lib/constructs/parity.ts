import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { PARITY_METRICS, PARITY_PAIR_DIMENSION } from '../../lambda/parity/metrics';
import { PARITY_SUMMARY_PK } from '../../lambda/shared/parity-summary';
import { PARITY_GATE_ENV, PARITY_GATE_PARAMETER, type ParityGatePair } from '../../lambda/shared/parity-gate';
import type { ParityConfig } from '../config';
import {
  PARITY_FUNCTION_TIMEOUT_SECONDS,
  parityMaxAgeMinutes,
  type ParityPairConfig,
} from '../config/sections/parity';
import { METRIC_NAMESPACE, resourcePrefix } from '../project';
import type { AlarmFactory } from './alarm-factory';
import type { DashboardSection } from './dashboard-section';
import { LAMBDA_CA_BUNDLE } from './data-checks';
import type { Database } from './database';
import { publishDeploymentParameter } from './deployment-parameter';
import { GuardrailsFunction, lambdaEntry } from './guardrails-function';
import { grantStateAndSecretKeys, scheduleInvokeRole } from './scheduled-db-function';

export interface OutputParityProps {
  readonly envName: string;
  readonly pairs: ParityConfig;
  readonly vpc: ec2.IVpc;
  /** Where the function runs: the private subnets. */
  readonly subnets: ec2.SubnetSelection;
  /**
   * The data checks' security group: already allowed into the database on its port, and out to AWS APIs
   * over HTTPS. Shared, so the database's ingress rules stay one per checker role.
   */
  readonly securityGroup: ec2.ISecurityGroup;
  readonly database: Database;
  /** The read-only credentials the data checks use (SELECT on blue's and green's schemas). */
  readonly credentials: secretsmanager.ISecret;
  /** Key of the credentials when they are the database's admin secret. */
  readonly credentialsKey?: kms.IKey;
  /** The environment's state table: latest result per pair at pk `parity`. */
  readonly stateTable: dynamodb.ITable;
  readonly alarms: AlarmFactory;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * Scheduled blue-vs-green output parity: one function in the private subnets (read-only credentials, a
 * read-only snapshot, statement timeouts), one EventBridge Scheduler rate per pair carrying that pair's
 * config, metrics per pair (differences by kind, rows compared, a heartbeat), and per pair the alarms
 * "too many differences" (the pair's severity), "could not compare" and "silent".
 */
export class OutputParity extends Construct {
  readonly function: GuardrailsFunction;
  readonly schedules: scheduler.Schedule[] = [];
  readonly alarmList: cloudwatch.Alarm[] = [];
  readonly dashboardSection: DashboardSection;
  /** What the traffic gates need of each pair (name, budget, maximum age). */
  readonly gatePairs: readonly ParityGatePair[];

  private readonly envName: string;

  constructor(scope: Construct, id: string, props: OutputParityProps) {
    super(scope, id);
    if (props.pairs.length === 0) throw new Error('OutputParity needs at least one pair');
    this.envName = props.envName;
    const db = props.database;
    this.gatePairs = props.pairs.map((p) => ({
      name: p.name,
      maxDifferences: p.maxDifferences,
      maxAgeMinutes: parityMaxAgeMinutes(p),
    }));

    this.function = new GuardrailsFunction(this, 'Comparer', {
      entry: lambdaEntry('parity', 'handler.ts'),
      description: `pipeline-guardrails ${props.envName}: blue-vs-green output parity`,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      // A compare runs a few long statements (each bounded by the pair's statement timeout).
      timeout: Duration.seconds(PARITY_FUNCTION_TIMEOUT_SECONDS),
      memorySize: 512,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      environment: {
        ENV_NAME: props.envName,
        METRIC_NAMESPACE,
        STATE_TABLE_NAME: props.stateTable.tableName,
        DB_HOST: db.endpoint,
        DB_PORT: String(db.port),
        DB_NAME: db.databaseName,
        DB_SECRET_ARN: props.credentials.secretArn,
        DB_SSL_MODE: 'verify-full',
        NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE,
      },
    });
    const fn = this.function.function;
    // A failed run is not retried: the next scheduled run compares again; the failure is already reported.
    fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(15) });
    props.credentials.grantRead(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PublishParityMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ParityStateOnly',
        actions: ['dynamodb:PutItem'],
        resources: [props.stateTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [PARITY_SUMMARY_PK] } },
      }),
    );
    grantStateAndSecretKeys(fn, [props.stateTable.encryptionKey, props.credentialsKey]);
    const scheduleRole = scheduleInvokeRole(
      this,
      fn,
      `Lets EventBridge Scheduler invoke the ${props.envName} parity function`,
    );
    for (const pair of props.pairs) {
      this.schedules.push(
        new scheduler.Schedule(this, `Schedule-${pair.name}`, {
          scheduleName: `${resourcePrefix(props.envName)}-parity-${pair.name}`,
          description: `Compares ${pair.blue.schemaName}.${pair.blue.table} (blue) with ${pair.green.schemaName}.${pair.green.table} (green) every ${pair.scheduleMinutes} minutes`,
          schedule: scheduler.ScheduleExpression.rate(Duration.minutes(pair.scheduleMinutes)),
          target: new targets.LambdaInvoke(fn, {
            input: scheduler.ScheduleTargetInput.fromObject({ pair }),
            role: scheduleRole,
            retryAttempts: 0,
            maxEventAge: Duration.minutes(15),
          }),
        }),
      );
      this.createAlarms(props, pair);
    }

    publishDeploymentParameter(
      this,
      'FunctionNameParameter',
      props.envName,
      'parity/function-name',
      fn.functionName,
      'Parity function (invoke it with {"pair": ...} to compare now)',
    );
    publishDeploymentParameter(
      this,
      'GatePairsParameter',
      props.envName,
      PARITY_GATE_PARAMETER,
      JSON.stringify(this.gatePairs),
      'Parity pairs the shift preflight requires clean and fresh (JSON: name, maxDifferences, maxAgeMinutes)',
    );
    this.dashboardSection = this.section(props.pairs);
  }

  /**
   * Makes a traffic gate function (the rollout's tasks) require every pair clean and fresh: the pairs in
   * its environment, and read access to the latest results (pk `parity`) only.
   */
  requireParityIn(fn: lambda.Function, stateTable: dynamodb.ITable): void {
    fn.addEnvironment(PARITY_GATE_ENV, JSON.stringify(this.gatePairs));
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ParityGateRead',
        actions: ['dynamodb:Query'],
        resources: [stateTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [PARITY_SUMMARY_PK] } },
      }),
    );
  }

  /** A metric of one pair. */
  metric(name: string, pair: string, statistic: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: name,
      dimensionsMap: { Environment: this.envName, [PARITY_PAIR_DIMENSION]: pair },
      statistic,
      period,
    });
  }

  private createAlarms(props: OutputParityProps, pair: ParityPairConfig): void {
    const alarm = (id: string, p: Parameters<AlarmFactory['createAlarm']>[2]) =>
      this.alarmList.push(props.alarms.createAlarm(this, id, p));
    const period = Duration.minutes(pair.scheduleMinutes);
    const rel = `${pair.blue.schemaName}.${pair.blue.table} vs ${pair.green.schemaName}.${pair.green.table}`;
    const rerun = `npm run parity -- --env ${props.envName} --pair ${pair.name} --database-url ...`;
    alarm(`Differences-${pair.name}`, {
      area: 'parity',
      what: `differences-${pair.name}`,
      severity: pair.severity,
      metric: this.metric(PARITY_METRICS.differences, pair.name, 'Maximum', period),
      threshold: pair.maxDifferences,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // Silence is the heartbeat alarm's job.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning: `Green's output differs from blue's (${rel}): more than ${pair.maxDifferences} row(s) only in one side, changed, or with duplicate/NULL keys. The traffic gates refuse to raise green's weight.`,
      firstCheck: `${rerun} shows the counts per kind and sample rows side by side.`,
      runbookAnchor: 'parity-differences',
    });
    alarm(`Failed-${pair.name}`, {
      area: 'parity',
      what: `failed-${pair.name}`,
      severity: 'warning',
      metric: this.metric(PARITY_METRICS.failures, pair.name, 'Maximum', period),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning: `The parity of ${rel} could not be compared (missing table or column, permission, timeout, database unreachable).`,
      firstCheck: `The parity function's log line for ${pair.name} (failure kind and message), or ${rerun}`,
      runbookAnchor: 'parity-failed',
    });
    // Two schedules without a successful comparison (one period if two would exceed CloudWatch's day).
    const periods = pair.scheduleMinutes * 2 <= 1440 ? 2 : 1;
    // Mail, whatever the pair's severity: a silent parity function cannot let traffic move (the gates refuse a
    // stale result), and its usual cause, an unreachable database, already pages once through the data checks'
    // heartbeat (docs/RUNBOOK.md, "One page per cause").
    alarm(`Silent-${pair.name}`, {
      area: 'parity',
      what: `silent-${pair.name}`,
      severity: 'warning',
      metric: this.metric(PARITY_METRICS.heartbeat, pair.name, 'Sum', period),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: periods,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      meaning: `No successful parity comparison of ${rel} in ${periods * pair.scheduleMinutes} minutes: green's output is not being checked (and the traffic gates stay closed).`,
      firstCheck: `The parity function's errors and log group; its schedule ${resourcePrefix(props.envName)}-parity-${pair.name}.`,
      runbookAnchor: 'parity-silent',
    });
  }

  /** Period of the duration graph: the shortest pair schedule. */
  private graphMinutes(pairs: ParityConfig): number {
    return Math.min(...pairs.map((p) => p.scheduleMinutes));
  }

  private section(pairs: ParityConfig): DashboardSection {
    const rows: cloudwatch.IWidget[][] = [];
    const widgets = pairs.map((p) => {
      const period = Duration.minutes(p.scheduleMinutes);
      const m = (name: string, label: string) => this.metric(name, p.name, 'Maximum', period).with({ label });
      return new cloudwatch.GraphWidget({
        title: `${p.name}: differences by kind (allowed ${p.maxDifferences})`,
        // The kinds are published only when non-zero; the total is published by every comparison.
        left: [
          m(PARITY_METRICS.differences, 'differences (total)'),
          m(PARITY_METRICS.onlyInBlue, 'only in blue'),
          m(PARITY_METRICS.onlyInGreen, 'only in green'),
          m(PARITY_METRICS.changed, 'changed'),
          m(PARITY_METRICS.duplicateKeys, 'duplicate keys'),
          m(PARITY_METRICS.nullKeys, 'null keys'),
        ],
        leftAnnotations: [{ value: p.maxDifferences, label: 'allowed', color: cloudwatch.Color.RED }],
        width: 12,
      });
    });
    for (let i = 0; i < widgets.length; i += 2) rows.push(widgets.slice(i, i + 2));
    rows.push([
      new cloudwatch.GraphWidget({
        title: 'Parity: successful comparisons and failures',
        left: pairs.map((p) =>
          this.metric(PARITY_METRICS.heartbeat, p.name, 'Sum', Duration.minutes(p.scheduleMinutes)).with({
            label: `${p.name} compared`,
          }),
        ),
        right: pairs.map((p) =>
          this.metric(PARITY_METRICS.failures, p.name, 'Sum', Duration.minutes(p.scheduleMinutes)).with({
            label: `${p.name} could not compare`,
          }),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        // The function's own Duration (free); each comparison also logs its database time.
        title: 'Parity: longest comparison (ms)',
        left: [
          this.function.function
            .metricDuration({ statistic: 'Maximum', period: Duration.minutes(this.graphMinutes(pairs)) })
            .with({ label: 'comparer duration' }),
        ],
        leftYAxis: { min: 0, showUnits: false },
        width: 12,
      }),
    ]);
    return {
      title: 'Output parity (blue vs green)',
      description:
        "Rows of green's output that differ from blue's, by kind, per pair, from the scheduled comparison. Must stay at or under \"allowed\" before green's weight is raised.",
      rows,
    };
  }
}
