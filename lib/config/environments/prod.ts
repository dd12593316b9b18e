import type { EnvironmentConfigInput } from '../schema';
import { unifiedParityPairs } from './unified-parity';

/**
 * Production: the RDS instance the team runs today (about 20 million rows in 40 tables).
 * Floors are the production row counts when this config was written; raise them as the data grows.
 */
export const prodConfig: EnvironmentConfigInput = {
  envName: 'prod',
  account: '333333333333',
  region: 'us-east-1',
  tags: { CostCenter: 'data-platform', Owner: 'data-platform-oncall' },
  logRetentionDays: 365,
  network: {
    mode: 'existing',
    vpcId: 'vpc-0a1b2c3d4e5f60003',
    availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f60031', 'subnet-0a1b2c3d4e5f60032', 'subnet-0a1b2c3d4e5f60033'],
    publicSubnetIds: ['subnet-0a1b2c3d4e5f60034', 'subnet-0a1b2c3d4e5f60035', 'subnet-0a1b2c3d4e5f60036'],
  },
  database: {
    mode: 'existing',
    instanceIdentifier: 'nba-analytics-prod',
    endpoint: 'nba-analytics-prod.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com',
    port: 5432,
    databaseName: 'nba',
    securityGroupId: 'sg-0a1b2c3d4e5f60037',
    credentialsSecretArn:
      'arn:aws:secretsmanager:us-east-1:333333333333:secret:nba-analytics-prod/admin-AbCdEf',
    allocatedStorageGiB: 200,
  },
  checks: {
    scheduleMinutes: 1,
    // Every table read exactly at least once an hour (1/60 of each per run): bounds unflushed-statistics losses.
    exactEveryMinutes: 60,
    // Role `guardrails_checks`: LOGIN and SELECT on the checked tables, nothing else.
    credentialsSecretArn:
      'arn:aws:secretsmanager:us-east-1:333333333333:secret:nba-analytics-prod/checks-readonly-AbCdEf',
    statementTimeoutSeconds: 20,
    lockTimeoutSeconds: 5,
    tables: [
      { table: 'games', minRows: 44_828, noDecrease: true, appendOnly: true },
      { table: 'play_by_play', minRows: 6_781_155, noDecrease: true, appendOnly: true },
      { table: 'hoopr_play_by_play', minRows: 13_074_829, noDecrease: true, appendOnly: true },
      { table: 'box_score_players', minRows: 408_833, noDecrease: true, appendOnly: true },
      { table: 'box_score_teams', minRows: 15_900, noDecrease: true, appendOnly: true },
    ],
    freshness: [
      {
        table: 'dims_metrics_snapshots',
        column: 'created_at',
        warnAfterMinutes: 720,
        errorAfterMinutes: 1440,
      },
      { table: 'box_score_snapshots', column: 'created_at', warnAfterMinutes: 720, errorAfterMinutes: 1440 },
    ],
    custom: [
      {
        name: 'orphan-box-score-teams',
        // 15,900 rows joined on the games primary key: a few milliseconds.
        sql: 'SELECT count(*) FROM box_score_teams b WHERE NOT EXISTS (SELECT 1 FROM games g WHERE g.game_id = b.game_id)',
        max: 0,
        severity: 'warning',
        description: 'team box scores whose game row is missing (a partial load or a deleted game)',
      },
    ],
  },
  snapshots: {
    // Every 6 hours: at most 6 hours of writes to replay from the pipeline after a restore.
    schedule: 'rate(6 hours)',
    graceMinutes: 60,
    retention: { daily: 7, weekly: 4, monthly: 6, minimum: 4, preShiftDays: 30 },
    quota: { limit: 100, alarmPercent: 80 },
    // A second region survives a regional outage; the key lives in the prod account in us-west-2.
    copy: {
      region: 'us-west-2',
      kmsKeyArn: 'arn:aws:kms:us-west-2:333333333333:key/5e5e5e5e-3333-4333-8333-333333333333',
      retention: { daily: 7, weekly: 4, monthly: 3, minimum: 2, preShiftDays: 7 },
    },
    waitTimeoutMinutes: 90,
    // Weekly restore drill, Sunday 05:00 UTC (a quiet hour): restore the newest snapshot, verify, delete.
    drill: {
      schedule: 'cron(0 5 ? * SUN *)',
      instanceClass: 'db.t4g.medium',
      timeoutMinutes: 240,
      maxDaysWithoutSuccess: 8,
      // Rollback must be possible within the hour the migration plan allows for a restore.
      recoveryTimeObjectiveMinutes: 60,
      sentinel: {
        name: 'drill-games-present',
        sql: 'SELECT count(*) FROM games',
        min: 44_828,
        description: 'the restored copy holds at least the games rows production had when this was written',
      },
    },
  },
  alerting: {
    criticalSubscriptions: [
      {
        protocol: 'https',
        endpoint: 'https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue',
      },
      { protocol: 'email', endpoint: 'data-platform-oncall@example.com' },
    ],
    warningSubscriptions: [{ protocol: 'email', endpoint: 'data-platform@example.com' }],
    runbookUrl: 'https://git.example.com/data-platform/pipeline-guardrails/-/blob/main/docs/RUNBOOK.md',
    databaseHealth: {
      // 1-minute datapoints, 5 in a row: a sustained problem pages within about 7 minutes, a spike never.
      periodMinutes: 1,
      evaluationPeriods: 5,
      // Assumes max_connections = 500 (check: SHOW max_connections;): warning at 80%, critical at 95%.
      connections: { warning: 400, critical: 475 },
      // 200 GiB allocated: besides the 20%/10% ratios, an absolute floor that leaves room for VACUUM and WAL.
      freeStorageGiB: { warning: 30, critical: 10 },
    },
  },
  routing: {
    enabled: true,
    loadBalancer: {
      internetFacing: true,
      certificateArn: 'arn:aws:acm:us-east-1:333333333333:certificate/3c3c3c3c-3333-4333-8333-333333333333',
      deletionProtection: true,
    },
    blue: {
      image: '333333333333.dkr.ecr.us-east-1.amazonaws.com/nba-monolith:2026.11.1',
      cpu: 1024,
      memory: 2048,
      desiredCount: 2,
      containerPort: 8080,
      healthCheckPath: '/healthz',
    },
    green: {
      image: '333333333333.dkr.ecr.us-east-1.amazonaws.com/nba-unified-pipeline:2026.11.3',
      cpu: 1024,
      memory: 2048,
      desiredCount: 2,
      containerPort: 8080,
      healthCheckPath: '/healthz',
      environment: { PIPELINE_MODE: 'unified' },
      // Role `unified_pipeline`: the tables the pipeline writes, nothing else (never the admin secret).
      secrets: {
        DATABASE_CREDENTIALS:
          'arn:aws:secretsmanager:us-east-1:333333333333:secret:nba-analytics-prod/unified-pipeline-AbCdEf',
      },
    },
    initialWeights: { blue: 100, green: 0 },
    bakeSeconds: 900,
    serviceLevels: { errorRatePercent: 1, p95Seconds: 7.0, minThroughputPerHour: 500 },
    preShiftSnapshot: 'when-green-rises-from-zero',
    // Armed during a shift or plan and for a day after green's last increase (every trigger class).
    autoRollback: { watchHours: 24 },
  },
  // Blue-vs-green output parity of the unified pipeline's schema.
  // The final 24-hour parallel run: games that tipped off in the last day (what both pipelines processed).
  parity: unifiedParityPairs({ scheduleMinutes: 60, severity: 'critical', gamesWindowHours: 24 }),
  cost: {
    // Load balancer, four 1 vCPU tasks and the guardrails (about $200); the database is not tagged by us.
    monthlyBudgetUsd: 300,
  },
};
