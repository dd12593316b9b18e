import type { EnvironmentConfigInput } from '../schema';
import { unifiedParityPairs } from './unified-parity';

/**
 * Dev: a sandbox account. Creates its own VPC and a small encrypted PostgreSQL, so
 * `cdk deploy -c env=dev --all` works in an empty account. Load it with ../shared/seedscale at a small SCALE.
 */
export const devConfig: EnvironmentConfigInput = {
  envName: 'dev',
  account: '111111111111',
  region: 'us-east-1',
  logRetentionDays: 14,
  network: {
    mode: 'create',
    cidr: '10.40.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    natGateways: 1,
  },
  database: {
    mode: 'create',
    instanceClass: 't4g.micro',
    engineMajorVersion: '15',
    allocatedStorageGiB: 20,
    maxAllocatedStorageGiB: 50,
    databaseName: 'nba',
    backupRetentionDays: 1,
    multiAz: false,
    deletionProtection: false,
    removalPolicy: 'destroy',
  },
  checks: {
    scheduleMinutes: 5,
    tables: [
      { table: 'games', appendOnly: true },
      { table: 'play_by_play', appendOnly: true },
      { table: 'hoopr_play_by_play', appendOnly: true },
    ],
    freshness: [
      {
        table: 'dims_metrics_snapshots',
        column: 'created_at',
        warnAfterMinutes: 720,
        errorAfterMinutes: 1440,
      },
    ],
  },
  snapshots: {
    // A sandbox: one snapshot a day, a few kept, no copy.
    schedule: 'rate(1 day)',
    graceMinutes: 180,
    retention: { daily: 3, weekly: 1, monthly: 0, minimum: 2, preShiftDays: 3 },
    waitTimeoutMinutes: 30,
  },
  alerting: {
    criticalSubscriptions: [],
    warningSubscriptions: [],
    runbookUrl: 'https://git.example.com/data-platform/pipeline-guardrails/-/blob/main/docs/RUNBOOK.md',
    databaseHealth: {
      // A sandbox: 5-minute datapoints, 3 in a row (15 minutes) before anything fires.
      periodMinutes: 5,
      evaluationPeriods: 3,
      // db.t4g.micro: max_connections = LEAST(DBInstanceClassMemory/9531392, 5000), about 80 with 1 GiB.
      connections: { warning: 60, critical: 75 },
      // 1 GiB of RAM: PostgreSQL's own caches leave little freeable memory even when healthy.
      freeableMemoryMiB: { warning: 128, critical: 64 },
      // Storage autoscales from 20 to 50 GiB (at 10% free): a floor below that trigger, so growth never pages.
      freeStorageGiB: { critical: 1 },
    },
  },
  routing: {
    // A sandbox has no certificate or images: an internal load balancer on plain HTTP (warned at synth),
    // reachable from inside the VPC only (a bastion, a VPN or SSM port forwarding), and a small public image.
    enabled: true,
    loadBalancer: { internetFacing: false, allowPlainHttp: true, ingressCidrs: ['10.40.0.0/16'] },
    blue: { image: 'public.ecr.aws/nginx/nginx:stable-alpine', environment: { PIPELINE_COLOR: 'blue' } },
    green: { image: 'public.ecr.aws/nginx/nginx:stable-alpine', environment: { PIPELINE_COLOR: 'green' } },
    bakeSeconds: 60,
    // A sandbox: armed during a shift or plan and for an hour after green's last increase.
    autoRollback: { watchHours: 1 },
  },
  // Blue-vs-green output parity of the unified pipeline's schema.
  parity: unifiedParityPairs({ scheduleMinutes: 240, severity: 'warning' }),
  cost: {
    // A sandbox: the created database, the load balancer, two small tasks and a NAT gateway (about $90).
    monthlyBudgetUsd: 100,
  },
};
