import type { EnvironmentConfigInput } from '../schema';
import { unifiedParityPairs } from './unified-parity';

/** Staging: a restored copy of production in its own account; same rules, no floors (its data is refreshed). */
export const stagingConfig: EnvironmentConfigInput = {
  envName: 'staging',
  account: '222222222222',
  region: 'us-east-1',
  tags: { CostCenter: 'data-platform' },
  logRetentionDays: 30,
  network: {
    mode: 'existing',
    vpcId: 'vpc-0a1b2c3d4e5f60002',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f60021', 'subnet-0a1b2c3d4e5f60022'],
    publicSubnetIds: [],
  },
  database: {
    mode: 'existing',
    instanceIdentifier: 'nba-analytics-staging',
    endpoint: 'nba-analytics-staging.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com',
    port: 5432,
    databaseName: 'nba',
    securityGroupId: 'sg-0a1b2c3d4e5f60027',
    credentialsSecretArn:
      'arn:aws:secretsmanager:us-east-1:222222222222:secret:nba-analytics-staging/admin-AbCdEf',
    allocatedStorageGiB: 100,
  },
  checks: {
    scheduleMinutes: 5,
    credentialsSecretArn:
      'arn:aws:secretsmanager:us-east-1:222222222222:secret:nba-analytics-staging/checks-readonly-AbCdEf',
    tables: [
      { table: 'games', noDecrease: true, appendOnly: true },
      { table: 'play_by_play', noDecrease: true, appendOnly: true },
      { table: 'hoopr_play_by_play', noDecrease: true, appendOnly: true },
      { table: 'box_score_players', noDecrease: true, appendOnly: true },
      { table: 'box_score_teams', noDecrease: true, appendOnly: true },
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
  },
  snapshots: {
    // Staging is refreshed from prod: a daily snapshot and a short history are enough.
    schedule: 'cron(0 4 * * ? *)',
    retention: { daily: 7, weekly: 2, monthly: 0, minimum: 3, preShiftDays: 14 },
    // Monthly restore drill, 1st of the month 05:00 UTC.
    drill: {
      schedule: 'cron(0 5 1 * ? *)',
      instanceClass: 'db.t4g.medium',
      timeoutMinutes: 240,
      maxDaysWithoutSuccess: 35,
      recoveryTimeObjectiveMinutes: 90,
    },
  },
  alerting: {
    criticalSubscriptions: [{ protocol: 'email', endpoint: 'data-platform@example.com' }],
    warningSubscriptions: [{ protocol: 'email', endpoint: 'data-platform@example.com' }],
    runbookUrl: 'https://git.example.com/data-platform/pipeline-guardrails/-/blob/main/docs/RUNBOOK.md',
    databaseHealth: {
      // Same timing as prod, so a cutover rehearsal here pages the way prod would.
      periodMinutes: 1,
      evaluationPeriods: 5,
      // Assumes max_connections = 500 (check: SHOW max_connections;): warning at 80%, critical at 95%.
      connections: { warning: 400, critical: 475 },
    },
  },
  routing: {
    // No public subnets here: an internal load balancer reached from the corporate network.
    enabled: true,
    loadBalancer: {
      internetFacing: false,
      certificateArn: 'arn:aws:acm:us-east-1:222222222222:certificate/2b2b2b2b-2222-4222-8222-222222222222',
      ingressCidrs: ['10.0.0.0/8'],
    },
    blue: {
      image: '222222222222.dkr.ecr.us-east-1.amazonaws.com/nba-monolith:2026.11.1',
      cpu: 512,
      memory: 1024,
      containerPort: 8080,
      healthCheckPath: '/healthz',
    },
    green: {
      image: '222222222222.dkr.ecr.us-east-1.amazonaws.com/nba-unified-pipeline:2026.11.3',
      cpu: 512,
      memory: 1024,
      containerPort: 8080,
      healthCheckPath: '/healthz',
      // Role `unified_pipeline`: the tables the pipeline writes, nothing else (never the admin secret).
      secrets: {
        DATABASE_CREDENTIALS:
          'arn:aws:secretsmanager:us-east-1:222222222222:secret:nba-analytics-staging/unified-pipeline-AbCdEf',
      },
    },
    bakeSeconds: 300,
    // Armed during a shift or plan and for 4 hours after green's last increase (a working session).
    autoRollback: { watchHours: 4 },
  },
  // Blue-vs-green output parity of the unified pipeline's schema.
  parity: unifiedParityPairs({ scheduleMinutes: 60, severity: 'warning' }),
  cost: {
    // Load balancer, two 0.5 vCPU tasks and the guardrails (about $80); the database is not tagged by us.
    monthlyBudgetUsd: 120,
  },
};
