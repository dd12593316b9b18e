import { Annotations, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CHECK_METRICS } from '../../lambda/data-checks/metrics';
import type { ChecksConfig } from '../config';
import { sameSecret } from '../config/consistency';
import { METRIC_NAMESPACE, resourcePrefix } from '../project';
import type { AlarmFactory } from './alarm-factory';
import type { DashboardSection } from './dashboard-section';
import type { Database } from './database';
import { publishDeploymentParameter } from './deployment-parameter';
import { GuardrailsFunction, lambdaEntry } from './guardrails-function';
import { grantStateAndSecretKeys, scheduleInvokeRole } from './scheduled-db-function';

export interface DataChecksProps {
  readonly envName: string;
  readonly config: ChecksConfig;
  readonly vpc: ec2.IVpc;
  /** Where the function runs: the private subnets. */
  readonly subnets: ec2.SubnetSelection;
  /** The primary instance (a replica's statistics do not see the primary's writes). */
  readonly database: Database;
  /** The environment's state table (baselines under pk `checks#...`, the verdict at pk `checks`). */
  readonly stateTable: dynamodb.ITable;
  /** Key of the database's admin secret, used when no read-only secret is configured. */
  readonly databaseSecretKey?: kms.IKey;
  readonly alarms: AlarmFactory;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/** Alarm-name part of a table: `hoopr-play-by-play`, or `stats-games` outside `public`. */
export function tableSlug(schemaName: string, table: string): string {
  const raw = schemaName === 'public' ? table : `${schemaName}-${table}`;
  return raw.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/** Period of the loss-rule alarms (rows lost, append-only): high resolution, see createAlarms. */
export const LOSS_ALARM_PERIOD = Duration.seconds(10);
/** Periods those alarms look at (1 breaching is enough): a datapoint up to 20 s late is still seen. */
export const LOSS_ALARM_EVALUATION_PERIODS = 3;

/** Path of the CA bundle of the Lambda Node.js runtime, which includes the RDS certificate authorities. */
export const LAMBDA_CA_BUNDLE = '/var/runtime/ca-cert.pem';

/**
 * The scheduled data checker of one environment: one function in the private subnets with its own security
 * group (allowed into the database's on its port only), read-only database credentials from Secrets
 * Manager, an EventBridge Scheduler rate carrying the checks config, metrics in the project namespace,
 * and the alarms that page on loss, floor, append-only, schema and freshness violations and on silence.
 */
export class DataChecks extends Construct {
  readonly function: GuardrailsFunction;
  readonly securityGroup: ec2.SecurityGroup;
  readonly schedule: scheduler.Schedule;
  /** The secret the checker logs in with. */
  readonly credentials: secretsmanager.ISecret;
  readonly alarmList: cloudwatch.Alarm[] = [];
  /** In ALARM while the checker cannot connect to the database (warning; holds blue's error-rate page). */
  readonly databaseUnreachableAlarm: cloudwatch.Alarm;
  /** Row counts, loss and schema signals, and the checker's own health. */
  readonly dashboardSection: DashboardSection;
  /** Freshness ages against their thresholds; undefined when no freshness rule is configured. */
  readonly freshnessDashboardSection?: DashboardSection;

  private readonly period: Duration;
  private readonly envName: string;

  constructor(scope: Construct, id: string, props: DataChecksProps) {
    super(scope, id);
    const cfg = props.config;
    const db = props.database;
    this.envName = props.envName;
    this.period = Duration.minutes(cfg.scheduleMinutes);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'pipeline-guardrails data checks: PostgreSQL to the database, HTTPS to AWS APIs',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.securityGroupId(db.securityGroup.securityGroupId),
      ec2.Port.tcp(db.port),
      'PostgreSQL to the guarded database',
    );
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to Secrets Manager, DynamoDB and CloudWatch',
    );
    // Created here (the guardrails stack), so the stateful stack never depends on this one.
    new ec2.CfnSecurityGroupIngress(this, 'DatabaseIngress', {
      groupId: db.securityGroup.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: db.port,
      toPort: db.port,
      sourceSecurityGroupId: this.securityGroup.securityGroupId,
      description: 'pipeline-guardrails data checks',
    });

    if (cfg.credentialsSecretArn && sameSecret(cfg.credentialsSecretArn, db.credentialsSecret.secretArn)) {
      Annotations.of(this).addWarningV2(
        'pipeline-guardrails:checks-admin-credentials',
        'checks.credentialsSecretArn is the database admin secret (database.credentialsSecretArn): the checks run read-only, but a role with LOGIN and SELECT on the checked tables is all they need. Create one and set its secret.',
      );
    }
    if (cfg.credentialsSecretArn) {
      this.credentials = /-[A-Za-z0-9]{6}$/.test(cfg.credentialsSecretArn)
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'ReadOnlyCredentials', cfg.credentialsSecretArn)
        : secretsmanager.Secret.fromSecretPartialArn(this, 'ReadOnlyCredentials', cfg.credentialsSecretArn);
    } else {
      // Imported by ARN: a grant on the stateful stack's own secret would edit its key policy from this
      // stack and make the two stacks depend on each other. The key is granted below instead.
      this.credentials = secretsmanager.Secret.fromSecretCompleteArn(
        this,
        'AdminCredentials',
        db.credentialsSecret.secretArn,
      );
      Annotations.of(this).addWarningV2(
        'pipeline-guardrails:checks-admin-credentials',
        'checks.credentialsSecretArn is not set: the data checks log in with the database admin secret (still inside a read-only transaction). Create a role with LOGIN and SELECT on the checked tables and set its secret.',
      );
    }

    this.function = new GuardrailsFunction(this, 'Checker', {
      entry: lambdaEntry('data-checks', 'handler.ts'),
      description: `pipeline-guardrails ${props.envName}: data integrity and freshness checks`,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      // Room for a few statements to hit their timeout, but never longer than the schedule interval, so
      // runs do not overlap (at least 60 s, at most Lambda's 900 s).
      timeout: Duration.seconds(
        Math.min(
          Math.max(60, Math.min(900, cfg.scheduleMinutes * 60)),
          Math.max(60, cfg.statementTimeoutSeconds * 3),
        ),
      ),
      memorySize: 256,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      environment: {
        ENV_NAME: props.envName,
        METRIC_NAMESPACE,
        STATE_TABLE_NAME: props.stateTable.tableName,
        DB_HOST: db.endpoint,
        DB_PORT: String(db.port),
        DB_NAME: db.databaseName,
        DB_SECRET_ARN: this.credentials.secretArn,
        DB_SSL_MODE: 'verify-full',
        NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE,
      },
    });
    const fn = this.function.function;
    // A failed run is not retried: the next scheduled run looks again, and the failure is already reported.
    fn.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.seconds(Math.max(60, cfg.scheduleMinutes * 60)),
    });

    this.credentials.grantRead(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PublishCheckMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ChecksStateOnly',
        actions: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [props.stateTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['checks', 'checks#*'] } },
      }),
    );
    grantStateAndSecretKeys(fn, [
      props.stateTable.encryptionKey,
      cfg.credentialsSecretArn ? undefined : props.databaseSecretKey,
    ]);
    const scheduleRole = scheduleInvokeRole(
      this,
      fn,
      `Lets EventBridge Scheduler invoke the ${props.envName} data checks`,
    );
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      scheduleName: `${resourcePrefix(props.envName)}-data-checks`,
      description: `Runs the ${props.envName} data checks every ${cfg.scheduleMinutes} minute(s)`,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(cfg.scheduleMinutes)),
      target: new targets.LambdaInvoke(fn, {
        input: scheduler.ScheduleTargetInput.fromObject({ checks: cfg }),
        role: scheduleRole,
        retryAttempts: 0,
        maxEventAge: Duration.seconds(Math.max(60, cfg.scheduleMinutes * 60)),
      }),
    });

    publishDeploymentParameter(
      this,
      'FunctionNameParameter',
      props.envName,
      'checks/function-name',
      fn.functionName,
      'Data checks function (invoke it to run the checks now)',
    );

    this.databaseUnreachableAlarm = this.createAlarms(props);
    this.dashboardSection = this.integritySection(cfg);
    this.freshnessDashboardSection = cfg.freshness.length > 0 ? this.freshnessSection(cfg) : undefined;
  }

  /** A metric of the checker in the project namespace. */
  metric(name: string, dims: Record<string, string>, statistic: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: name,
      dimensionsMap: { Environment: this.envName, ...dims },
      statistic,
      period: this.period,
    });
  }

  /** Creates the alarms; returns the database-unreachable one (the stack holds blue's page with it). */
  private createAlarms(props: DataChecksProps): cloudwatch.Alarm {
    const cfg = props.config;
    const alarm = (id: string, p: Parameters<AlarmFactory['createAlarm']>[2]) =>
      this.alarmList.push(props.alarms.createAlarm(this, id, p));
    const GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
    // Per-rule alarms keep their state through a gap (a slow run, a dropped schedule, a table that could not
    // be checked): an open violation neither resolves nor pages again until a run reports it gone. Silence
    // itself is the heartbeat alarm's page.
    const silent = cloudwatch.TreatMissingData.IGNORE;
    const silenceCoveredBy = 'checks-heartbeat-missing';
    // Loss rules are high-resolution (published with StorageResolution 1): a 10 s alarm period sees a run's
    // datapoint within seconds instead of at the end of a 1-minute period. 1 of 3 periods, so a datapoint a
    // little late still lands in the evaluated range; the gaps between runs are ignored.
    const loss = {
      evaluationPeriods: LOSS_ALARM_EVALUATION_PERIODS,
      datapointsToAlarm: 1,
      treatMissingData: silent,
      silenceCoveredBy,
    };
    const lossMetric = (name: string, dims: Record<string, string>) =>
      this.metric(name, dims, 'Maximum').with({ period: LOSS_ALARM_PERIOD });

    const guarded = cfg.tables.filter((t) => t.noDecrease || t.appendOnly);
    if (guarded.length > 0) {
      // One alarm for every guarded table: the per-run RowsLost is the largest open loss over them, published
      // only by a run that looked at every one (so a table that could not be checked never reads as 0). A
      // second table losing rows while the first is open keeps it in ALARM (one incident; the check output
      // and the dashboard's per-table graph name every table); it resolves only when every loss is accepted.
      const keys = guarded.map((t) => `${t.schemaName}.${t.table}`);
      alarm('RowsLost', {
        area: 'checks',
        what: 'rows-lost',
        severity: 'critical',
        metric: lossMetric(CHECK_METRICS.rowsLost, {}),
        threshold: 0,
        comparisonOperator: GT,
        ...loss,
        meaning: `Rows present at the last exact look are gone from a guarded table (data loss${guarded.some((t) => t.appendOnly) ? ', append-only history included' : ''}): ${keys.join(', ')}. It stays in ALARM until every loss is accepted.`,
        firstCheck: `npm run check -- --env ${props.envName} --database-url ... names the tables and key ranges that lost rows and since when; find the DELETE/TRUNCATE in the database logs.`,
        runbookAnchor: 'checks-rows-lost',
      });
    }
    for (const t of cfg.tables) {
      const key = `${t.schemaName}.${t.table}`;
      const slug = tableSlug(t.schemaName, t.table);
      const dims = { Table: key };
      if (t.minRows !== undefined) {
        alarm(`BelowFloor-${slug}`, {
          area: 'checks',
          what: `below-floor-${slug}`,
          // With noDecrease, a drop below the floor is a loss rows-lost already pages for: mail, not a second page.
          severity: t.noDecrease ? 'warning' : 'critical',
          metric: this.metric(CHECK_METRICS.rowCount, dims, 'Minimum'),
          threshold: t.minRows,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          treatMissingData: silent,
          silenceCoveredBy,
          meaning: `${key} has fewer than ${t.minRows} rows, the floor set for it.${t.noDecrease ? ' A loss pages through rows-lost.' : ''}`,
          firstCheck: `Exact count: SELECT count(*) FROM ${key}; compare with the floor in lib/config/environments/${props.envName}.ts.`,
          runbookAnchor: 'checks-below-floor',
        });
      }
    }
    const tracked = cfg.tables.filter((t) => t.trackSchema);
    if (tracked.length > 0) {
      // One alarm for every tracked table (a migration that changes several tables is one cause): the per-run
      // count of tables whose schema differs, published only by a run that looked at every one.
      alarm('SchemaChanged', {
        area: 'checks',
        what: 'schema-changed',
        severity: 'critical',
        metric: this.metric(CHECK_METRICS.schemaChangedTables, {}, 'Maximum'),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: silent,
        silenceCoveredBy,
        meaning: `Columns (name, type, nullability) or the primary key of a tracked table differ from its baseline fingerprint (${tracked.length} tracked: ${tracked.map((t) => t.table).join(', ')}).`,
        firstCheck: `The check output names the table and the dropped/retyped column; was a migration deployed? Accept an intended change: npm run check -- --env ${props.envName} --deployed --accept SCHEMA.TABLE`,
        runbookAnchor: 'checks-schema-changed',
      });
    }

    for (const f of cfg.freshness) {
      const key = `${f.schemaName}.${f.table}`;
      const slug = tableSlug(f.schemaName, f.table);
      const age = this.metric(CHECK_METRICS.freshnessAge, { Table: key }, 'Maximum');
      for (const [severity, after] of [
        ['warning', f.warnAfterMinutes],
        ['critical', f.errorAfterMinutes],
      ] as const) {
        alarm(`Stale-${severity}-${slug}`, {
          area: 'checks',
          what: `stale-${slug}-${severity}`,
          severity,
          metric: age,
          threshold: after * 60,
          comparisonOperator: GT,
          treatMissingData: silent,
          silenceCoveredBy,
          meaning: `The newest ${f.column} in ${key} is older than ${after} minutes: the pipeline that writes it has stopped or fallen behind.`,
          firstCheck: `SELECT max(${f.column}) FROM ${key}; then the writing pipeline's last run and errors.`,
          runbookAnchor: 'checks-stale-data',
        });
      }
    }

    for (const c of cfg.custom) {
      const value = (stat: string) => this.metric(CHECK_METRICS.customValue, { Check: c.name }, stat);
      const bounds = [
        ['min', c.min, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, 'Minimum'],
        ['max', c.max, GT, 'Maximum'],
      ] as const;
      for (const [which, bound, op, stat] of bounds) {
        if (bound === undefined) continue;
        alarm(`Custom-${c.name}-${which}`, {
          area: 'checks',
          what: `custom-${c.name}-${which}`,
          severity: c.severity,
          metric: value(stat),
          threshold: bound,
          comparisonOperator: op,
          treatMissingData: silent,
          silenceCoveredBy,
          meaning: `Custom check ${c.name} is ${which === 'min' ? 'below' : 'above'} ${bound}: ${c.description}`,
          firstCheck: `Run its SQL (lib/config/environments/${props.envName}.ts, checks.custom "${c.name}") and look at the offending rows.`,
          runbookAnchor: 'checks-custom',
        });
      }
    }

    // Silence pages: a checker that stops reporting is a checker that does not look.
    const heartbeatMinutes = heartbeatWindowMinutes(cfg.scheduleMinutes);
    alarm('HeartbeatMissing', {
      area: 'checks',
      what: 'heartbeat-missing',
      severity: 'critical',
      metric: new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName: CHECK_METRICS.heartbeat,
        dimensionsMap: { Environment: props.envName },
        statistic: 'Sum',
        period: Duration.minutes(heartbeatMinutes),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      meaning: `No successful data-checks run in ${heartbeatMinutes} minutes: integrity and freshness are not being watched.`,
      firstCheck: `The checker's log group (one JSON line per run) and its CheckFailures metric: unreachable, authentication, timeout or permission?`,
      runbookAnchor: 'checks-heartbeat-missing',
    });
    alarm('CheckFailures', {
      area: 'checks',
      what: 'check-failures',
      // A run that could not look sends no heartbeat, so heartbeat-missing pages for this cause; this one
      // mails which check failed and why (and reaches the warning topic within 2-3 runs).
      severity: 'warning',
      metric: this.metric(CHECK_METRICS.checkFailures, {}, 'Sum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning:
        'The data checks could not check (database unreachable, authentication, timeout, missing table or column, permission denied) in 2 of the last 3 runs.',
      firstCheck: `Run npm run check -- --env ${props.envName} --database-url ... : its ERROR lines name the table and the failure.`,
      runbookAnchor: 'checks-failing',
    });
    // The database is the cause while the checker cannot connect: this alarm holds blue's error-rate page
    // (see AlarmFactory.holdPageWhile in the guardrails stack), so an unreachable database pages once, through
    // the heartbeat. Published only when a run could not connect; 1 of 2 periods, so a run whose datapoint
    // lands a minute late does not flap it.
    const unreachable = props.alarms.createAlarm(this, 'DatabaseUnreachable', {
      area: 'checks',
      what: 'database-unreachable',
      severity: 'warning',
      metric: this.metric(CHECK_METRICS.databaseUnreachable, {}, 'Maximum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      meaning:
        "The data checks could not connect to the database (stopped, failing over, network, security group, TLS). The checker's heartbeat pages for it; blue's error-rate page is held meanwhile.",
      firstCheck: `aws rds describe-db-instances for the instance status, then the checker's log line (the connect error) and the security groups.`,
      runbookAnchor: 'checks-database-unreachable',
    });
    this.alarmList.push(unreachable);
    alarm('Unverified', {
      area: 'checks',
      what: 'unverified',
      severity: 'critical',
      metric: this.metric(CHECK_METRICS.unverifiedTables, {}, 'Maximum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: silent,
      silenceCoveredBy,
      meaning:
        'A table has a "could not verify" open: a loss there can be neither proven nor ruled out by an exact read (no usable key, or rows added where rows may have gone). It stays open until accepted.',
      firstCheck: `npm run check -- --env ${props.envName} --database-url ... names the table, the key ranges and since when; compare with a snapshot, then accept: --deployed --accept SCHEMA.TABLE`,
      runbookAnchor: 'checks-unverified',
    });
    return unreachable;
  }

  private integritySection(cfg: ChecksConfig): DashboardSection {
    const tables = cfg.tables.map((t) => `${t.schemaName}.${t.table}`);
    const per = (name: string, stat: string) =>
      tables.map((k) => this.metric(name, { Table: k }, stat).with({ label: k }));
    const zero = [{ value: 0, label: 'must stay 0', color: cloudwatch.Color.RED }];
    const rows: cloudwatch.IWidget[][] = [];
    // One graph per table: 15,900 and 13 million rows on one axis would hide both floors.
    const counts = cfg.tables.map((t) => {
      const key = `${t.schemaName}.${t.table}`;
      return new cloudwatch.GraphWidget({
        title: `${key}: rows`,
        left: [this.metric(CHECK_METRICS.rowCount, { Table: key }, 'Minimum').with({ label: key })],
        leftAnnotations:
          t.minRows === undefined
            ? []
            : [
                {
                  value: t.minRows,
                  label: `floor ${t.minRows.toLocaleString('en-US')}`,
                  color: t.noDecrease ? cloudwatch.Color.ORANGE : cloudwatch.Color.RED,
                },
              ],
        leftYAxis: { showUnits: false },
        legendPosition: cloudwatch.LegendPosition.HIDDEN,
        width: 8,
        height: 5,
      });
    });
    for (let i = 0; i < counts.length; i += 3) rows.push(counts.slice(i, i + 3));
    if (tables.length > 0) {
      rows.push([
        // Per table only while non-zero (a series costs for every hour it has data); the per-run totals always.
        new cloudwatch.GraphWidget({
          title: 'Rows lost (left) / could not verify (right): must be 0',
          left: [
            this.metric(CHECK_METRICS.rowsLost, {}, 'Maximum').with({
              label: 'largest open loss (critical > 0)',
              period: LOSS_ALARM_PERIOD,
            }),
            ...per(CHECK_METRICS.rowsLost, 'Maximum'),
          ],
          right: [
            this.metric(CHECK_METRICS.unverifiedTables, {}, 'Maximum').with({
              label: 'tables (critical >= 1)',
            }),
            ...per(CHECK_METRICS.unverified, 'Maximum'),
          ],
          leftAnnotations: zero,
          leftYAxis: { min: 0, showUnits: false },
          rightYAxis: { min: 0, showUnits: false },
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Schema changed (must be 0)',
          left: [
            this.metric(CHECK_METRICS.schemaChangedTables, {}, 'Maximum').with({
              label: 'tables (critical >= 1)',
            }),
            ...per(CHECK_METRICS.schemaChanged, 'Maximum'),
          ],
          leftAnnotations: zero,
          leftYAxis: { min: 0, showUnits: false },
          width: 12,
        }),
      ]);
    }
    const heartbeatMinutes = heartbeatWindowMinutes(cfg.scheduleMinutes);
    rows.push([
      new cloudwatch.GraphWidget({
        title: `Checker: successful runs per ${heartbeatMinutes} min (pages below 1)`,
        left: [
          this.metric(CHECK_METRICS.heartbeat, {}, 'Sum').with({
            label: 'successful runs',
            period: Duration.minutes(heartbeatMinutes),
          }),
        ],
        leftAnnotations: [{ value: 1, label: 'critical < 1', color: cloudwatch.Color.RED }],
        leftYAxis: { min: 0, showUnits: false },
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Checker: checks that could not run (mail at 1 in 2 of 3 runs)',
        left: [
          this.metric(CHECK_METRICS.checkFailures, {}, 'Sum').with({ label: 'checks that could not run' }),
        ],
        leftAnnotations: [{ value: 1, label: 'warning >= 1', color: cloudwatch.Color.ORANGE }],
        leftYAxis: { min: 0, showUnits: false },
        width: 8,
      }),
      // The run's database time is in its log line; its duration against the timeout is under guardrails health.
      new cloudwatch.GraphWidget({
        title: 'Checker: runs that could not connect (mail at 1)',
        left: [
          this.metric(CHECK_METRICS.databaseUnreachable, {}, 'Maximum').with({ label: 'could not connect' }),
        ],
        leftAnnotations: [{ value: 1, label: 'warning >= 1', color: cloudwatch.Color.ORANGE }],
        leftYAxis: { min: 0, showUnits: false },
        width: 8,
      }),
    ]);
    return {
      title: 'Data integrity',
      description:
        'Exact row counts (with their floors) and losses of the guarded tables, from the scheduled checker (statistics counters decide when to read a table; exact reads by primary-key range decide losses; every table is read exactly at least every checks.exactEveryMinutes). Rows lost, could-not-verify and schema changes must stay at 0.',
      rows,
    };
  }

  private freshnessSection(cfg: ChecksConfig): DashboardSection {
    const widgets = cfg.freshness.map(
      (f) =>
        new cloudwatch.GraphWidget({
          title: `${f.schemaName}.${f.table}: age of newest ${f.column} (s)`,
          left: [this.metric(CHECK_METRICS.freshnessAge, { Table: `${f.schemaName}.${f.table}` }, 'Maximum')],
          leftAnnotations: [
            { value: f.warnAfterMinutes * 60, label: 'warning', color: cloudwatch.Color.ORANGE },
            { value: f.errorAfterMinutes * 60, label: 'critical', color: cloudwatch.Color.RED },
          ],
          width: 12,
        }),
    );
    const rows: cloudwatch.IWidget[][] = [];
    for (let i = 0; i < widgets.length; i += 2) rows.push(widgets.slice(i, i + 2));
    return {
      title: 'Freshness',
      description: 'Age of the newest row of each freshness table against its thresholds.',
      rows,
    };
  }
}

/** Window of the heartbeat alarm: three schedule intervals, at least 5 minutes, at most a day. */
export function heartbeatWindowMinutes(scheduleMinutes: number): number {
  return Math.min(1440, Math.max(5, scheduleMinutes * 3));
}
