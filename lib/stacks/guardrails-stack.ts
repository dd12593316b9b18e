import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { criticalCompositeAlarmName as compositeAlarmName, resourcePrefix } from '../project';
import { AlarmFactory } from '../constructs/alarm-factory';
import { AutoRollback } from '../constructs/auto-rollback';
import { autoRollbackTriggers } from '../constructs/auto-rollback-triggers';
import { AlertTopics } from '../constructs/alert-topics';
import { CostGuardrails } from '../constructs/cost-guardrails';
import { DataChecks } from '../constructs/data-checks';
import { DatabaseHealth } from '../constructs/database-health';
import { OutputParity } from '../constructs/parity';
import { EnvironmentDashboard } from '../constructs/environment-dashboard';
import { publishDeploymentParameter } from '../constructs/deployment-parameter';
import { PlatformHealthAlarms } from '../constructs/platform-health-alarms';
import { ProgressiveRollout } from '../constructs/progressive-rollout';
import { ServiceHealthAlarms } from '../constructs/service-health-alarms';
import { RestoreDrill } from '../constructs/restore-drill';
import { drillExecutionLimitMinutes } from '../../lambda/restore-drill/names';
import { tableKey } from '../../lambda/data-checks/sql';
import { Snapshots } from '../constructs/snapshots';
import { WeightedRouting } from '../constructs/weighted-routing';
import { checksMaxAgeMinutes } from '../../lambda/shared/checks-summary';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { statefulRemovalPolicy, type StatefulStack } from './stateful-stack';

export interface GuardrailsStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** Network, database, keys and state table of the same environment. */
  readonly stateful: StatefulStack;
}

/**
 * The stateless guardrails of one environment: alert topics and the alarm factory every capability uses,
 * then the capabilities (data checks, snapshots, routing, dashboard) as they are built.
 */
export class GuardrailsStack extends Stack {
  readonly topics: AlertTopics;
  readonly alarms: AlarmFactory;
  /** Scheduled data integrity and freshness checks (function, schedule, alarms). */
  readonly dataChecks: DataChecks;
  /** Health alarms, RDS event subscriptions and dashboard section of the environment's database. */
  readonly databaseHealth: DatabaseHealth;
  /** In ALARM while any critical alarm is: `<project>-<env>-critical-any` (no actions of its own). */
  readonly criticalComposite: cloudwatch.CompositeAlarm;
  /** The review dashboard `<project>-<env>`. */
  readonly dashboard: EnvironmentDashboard;
  /** Weighted blue-green routing (load balancer, services, alarms, shift policy); absent when not enabled. */
  readonly routing?: WeightedRouting;
  /** Progressive rollout state machine (plans with gates, snapshot, bakes, rollback); with routing. */
  readonly rollout?: ProgressiveRollout;
  /** Alarm-driven rollback to 100% blue (EventBridge rule + function); with routing. */
  readonly autoRollback?: AutoRollback;
  /** Scheduled RDS snapshots: schedule, retention, copies, quota and age alarms, backup events. */
  readonly snapshots?: Snapshots;
  /** Scheduled blue-vs-green output parity (function, schedule per pair, alarms); absent without pairs. */
  readonly parity?: OutputParity;
  /** Healthy tasks, CPU/memory per color, load balancer errors, certificate expiry; with routing. */
  readonly serviceHealth?: ServiceHealthAlarms;
  /** The paging path and the guardrails' own functions. */
  readonly platformHealth: PlatformHealthAlarms;
  /** Monthly budget and cost anomaly detection, both to the warning topic. */
  readonly cost: CostGuardrails;
  /** Restore drills of the snapshots (state machine, schedule, alarms); with snapshots.drill. */
  readonly restoreDrill?: RestoreDrill;

  constructor(scope: Construct, id: string, props: GuardrailsStackProps) {
    super(scope, id, props);
    const { config, stateful } = props;
    const prefix = resourcePrefix(config.envName);

    this.topics = new AlertTopics(this, 'AlertTopics', {
      config: config.alerting,
      namePrefix: prefix,
      key: stateful.keys.alerting,
      databaseInstanceIdentifier: stateful.database.instanceIdentifier,
    });
    this.alarms = new AlarmFactory(this, 'AlarmFactory', {
      topics: this.topics,
      envName: config.envName,
      runbookUrl: config.alerting.runbookUrl,
    });
    this.topics.createRedriveAlarms(this.alarms);
    publishDeploymentParameter(
      this,
      'CriticalTopicParameter',
      config.envName,
      'alerting/critical-topic-arn',
      this.topics.critical.topicArn,
      'Critical (paging) alert topic',
    );
    publishDeploymentParameter(
      this,
      'WarningTopicParameter',
      config.envName,
      'alerting/warning-topic-arn',
      this.topics.warning.topicArn,
      'Warning (mail) alert topic',
    );
    this.dataChecks = new DataChecks(this, 'DataChecks', {
      envName: config.envName,
      config: config.checks,
      vpc: stateful.network.vpc,
      subnets: stateful.network.privateSubnets,
      database: stateful.database,
      stateTable: stateful.state.table,
      databaseSecretKey: stateful.keys.data,
      alarms: this.alarms,
      logRetention: config.logRetentionDays as logs.RetentionDays,
      logRemovalPolicy: statefulRemovalPolicy(config),
    });
    if (config.parity.length > 0) {
      this.parity = new OutputParity(this, 'Parity', {
        envName: config.envName,
        pairs: config.parity,
        vpc: stateful.network.vpc,
        subnets: stateful.network.privateSubnets,
        securityGroup: this.dataChecks.securityGroup,
        database: stateful.database,
        credentials: this.dataChecks.credentials,
        credentialsKey: config.checks.credentialsSecretArn ? undefined : stateful.keys.data,
        stateTable: stateful.state.table,
        alarms: this.alarms,
        logRetention: config.logRetentionDays as logs.RetentionDays,
        logRemovalPolicy: statefulRemovalPolicy(config),
      });
    }
    this.databaseHealth = new DatabaseHealth(this, 'DatabaseHealth', {
      config: config.alerting.databaseHealth,
      instanceIdentifier: stateful.database.instanceIdentifier,
      allocatedStorageGiB: stateful.database.allocatedStorageGiB,
      maxAllocatedStorageGiB:
        config.database.mode === 'create' ? config.database.maxAllocatedStorageGiB : undefined,
      alarms: this.alarms,
      topics: this.topics,
      namePrefix: prefix,
    });
    if (config.routing.enabled) {
      this.routing = new WeightedRouting(this, 'Routing', {
        envName: config.envName,
        config: config.routing,
        network: stateful.network,
        alarms: this.alarms,
        warningTopic: this.topics.warning,
        alertingKey: stateful.keys.alerting,
        containerInsights: config.cost.containerInsights,
        stateTable: stateful.state.table,
        dataKey: stateful.keys.data,
        databaseInstanceIdentifier: stateful.database.instanceIdentifier,
        logRetention: config.logRetentionDays as logs.RetentionDays,
        removalPolicy: statefulRemovalPolicy(config),
      });
      const traffic = {
        listenerArn: this.routing.listener.listenerArn,
        blueTargetGroupArn: this.routing.blue.targetGroup.targetGroupArn,
        greenTargetGroupArn: this.routing.green.targetGroup.targetGroupArn,
        ruleArn: this.routing.weightedRule.ruleArn,
      };
      const criticalCompositeAlarmName = compositeAlarmName(config.envName);
      this.rollout = new ProgressiveRollout(this, 'Rollout', {
        envName: config.envName,
        traffic,
        greenAlarmNames: this.routing.greenAlarmNames,
        criticalCompositeAlarmName,
        stateTable: stateful.state.table,
        criticalTopic: this.topics.critical,
        warningTopic: this.topics.warning,
        alarms: this.alarms,
        dbInstanceIdentifier: stateful.database.instanceIdentifier,
        // A few checker runs: a silent checker closes the gate (the shift command's policy too).
        checksMaxAge: Duration.minutes(checksMaxAgeMinutes(config.checks.scheduleMinutes)),
        snapshotQuotaLimit: config.snapshots.quota.limit,
        runbookUrl: config.alerting.runbookUrl,
        logRetention: config.logRetentionDays as logs.RetentionDays,
        logRemovalPolicy: statefulRemovalPolicy(config),
        minRequestsPerStep: config.routing.minRequestsPerStep,
        evidenceWait: Duration.seconds(config.routing.evidenceWaitSeconds),
      });
      // The rollout's gates require every parity pair clean and fresh too.
      this.parity?.requireParityIn(this.rollout.taskFunction.function, stateful.state.table);
      // Green's failures only (blue and the database never move traffic), by exact alarm name.
      this.autoRollback = new AutoRollback(this, 'AutoRollback', {
        envName: config.envName,
        traffic,
        triggers: autoRollbackTriggers(config),
        triggerClasses: config.routing.autoRollback.triggers,
        watchHours: config.routing.autoRollback.watchHours,
        stateTable: stateful.state.table,
        resultTopic: this.topics.warning,
        stateMachine: this.rollout,
        alarms: this.alarms,
        runbookUrl: config.alerting.runbookUrl,
        logRetention: config.logRetentionDays as logs.RetentionDays,
        logRemovalPolicy: statefulRemovalPolicy(config),
      });
    }

    if (config.snapshots.enabled) {
      this.snapshots = new Snapshots(this, 'Snapshots', {
        config: config.snapshots,
        envName: config.envName,
        region: config.region,
        instanceIdentifier: stateful.database.instanceIdentifier,
        alarms: this.alarms,
        topics: this.topics,
        logRetention: config.logRetentionDays as logs.RetentionDays,
        logRemovalPolicy: statefulRemovalPolicy(config),
        drillSupport: {
          stateTable: stateful.state.table,
          tableKeys: config.checks.tables.map((t) => tableKey(t.schemaName, t.table)),
          drillLimitMinutes: config.snapshots.drill
            ? drillExecutionLimitMinutes(config.snapshots.drill.timeoutMinutes)
            : undefined,
        },
      });
      if (config.snapshots.drill) {
        this.restoreDrill = new RestoreDrill(this, 'RestoreDrill', {
          envName: config.envName,
          config: config.snapshots.drill,
          checks: config.checks,
          vpc: stateful.network.vpc,
          subnets: stateful.network.privateSubnets,
          database: stateful.database,
          stateTable: stateful.state.table,
          alarms: this.alarms,
          criticalTopic: this.topics.critical,
          logRetention: config.logRetentionDays as logs.RetentionDays,
          logRemovalPolicy: statefulRemovalPolicy(config),
        });
      }
    }

    this.cost = new CostGuardrails(this, 'Cost', {
      envName: config.envName,
      config: config.cost,
      namePrefix: prefix,
      topic: this.topics.warning,
    });
    if (this.routing) {
      const routing = this.routing;
      this.serviceHealth = new ServiceHealthAlarms(this, 'ServiceHealth', {
        envName: config.envName,
        config: config.alerting.serviceHealth,
        alarms: this.alarms,
        loadBalancer: routing.loadBalancer,
        colors: [routing.blue, routing.green].map((c) => ({
          color: c.color,
          service: c.service,
          targetGroup: c.targetGroup,
          desiredCount: config.routing[c.color].desiredCount,
        })),
        certificateArn: config.routing.loadBalancer.certificateArn,
      });
    }
    this.platformHealth = new PlatformHealthAlarms(this, 'PlatformHealth', {
      config: config.alerting.functionHealth,
      alarms: this.alarms,
      topics: this.topics,
      functions: [
        {
          name: 'data-checks',
          function: this.dataChecks.function,
          every: Duration.minutes(config.checks.scheduleMinutes),
        },
        ...(this.snapshots
          ? [
              {
                name: 'snapshots',
                function: this.snapshots.function,
                every: Duration.minutes(15),
                reservedConcurrency: 1,
              },
            ]
          : []),
      ],
    });

    // One page for an unreachable database: the checker's heartbeat pages for it; blue's error-rate page (blue
    // takes the traffic and cannot write) is held while the checker cannot connect. The holder enters ALARM at
    // most two schedule intervals plus a minute (a run, its connect timeout, ingestion) after the database
    // went; once it is OK again, blue has five minutes to recover before its own page goes out.
    if (this.routing) {
      this.alarms.holdPageWhile(this, 'BlueErrorRatePage', {
        area: 'routing',
        what: 'blue-error-rate',
        holder: this.dataChecks.databaseUnreachableAlarm,
        holderLatency: Duration.minutes(2 * config.checks.scheduleMinutes + 1),
        extensionPeriod: Duration.minutes(5),
        reason: 'the database is unreachable, which the checker heartbeat pages for',
      });
    }

    // --- Review layer: keep this block LAST in the constructor. -------------------------------------------
    // The composite's rule and the dashboard's alarm list are rendered at synth from this.alarms, so every
    // alarm is included wherever it was created; the sections below must exist by now, in display order:
    // traffic and service levels, data integrity, freshness, snapshots, database health.
    this.criticalComposite = this.alarms.createCriticalComposite(this, 'CriticalComposite');
    publishDeploymentParameter(
      this,
      'CriticalCompositeParameter',
      config.envName,
      'alerting/critical-composite-alarm-name',
      this.criticalComposite.alarmName,
      'Composite alarm in ALARM while any critical alarm is (shift preflight)',
    );
    this.dashboard = new EnvironmentDashboard(this, 'Dashboard', {
      envName: config.envName,
      dashboardName: prefix,
      runbookUrl: config.alerting.runbookUrl,
      sections: [
        // Traffic and service levels: routing, then the rollout that moves it.
        this.routing?.dashboardSection,
        this.serviceHealth?.dashboardSection,
        ...(this.rollout && this.autoRollback
          ? [this.rollout.dashboardSection, this.autoRollback.dashboardSection]
          : []),
        this.dataChecks.dashboardSection,
        this.dataChecks.freshnessDashboardSection,
        this.parity?.dashboardSection,
        ...(this.snapshots ? [this.snapshots.dashboardSection] : []),
        ...(this.restoreDrill ? [this.restoreDrill.dashboardSection] : []),
        this.databaseHealth.dashboardSection,
        this.platformHealth.dashboardSection,
      ],
      alarms: this.alarms,
      criticalComposite: this.criticalComposite,
      showWeights: config.routing.enabled,
    });
  }
}
