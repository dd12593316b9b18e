import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { RDSClient } from '@aws-sdk/client-rds';
import { METRIC_NAMESPACE } from '../../lib/project';
import { errorMessage, optionalEnv, requireEnv } from '../shared/env';
import { createLogger, type Logger } from '../shared/logger';
import { maintenanceMetrics, runMaintenance, SNAPSHOT_METRICS, type MaintenanceReport } from './maintain';
import type { RetentionPolicy } from './retention';
import { withRetry } from './retry';
import { takeSnapshot } from './take-snapshot';

/** What EventBridge Scheduler sends: take a snapshot, or only copy, prune and verify. */
export interface SnapshotEvent {
  readonly action?: 'snapshot' | 'maintain';
  /** Plan and log only. @default false */
  readonly dryRun?: boolean;
}

export interface SnapshotRunSummary {
  readonly action: 'snapshot' | 'maintain';
  readonly snapshotId?: string;
  readonly deleted: number;
  readonly copiesStarted: number;
  readonly failures: readonly string[];
}

/** The function's settings, from its environment (set by lib/constructs/snapshots.ts). */
export interface SnapshotSettings {
  readonly envName: string;
  readonly region: string;
  readonly instanceIdentifier: string;
  readonly quotaLimit: number;
  readonly retention: RetentionPolicy;
  readonly copy?: {
    readonly region: string;
    readonly kmsKeyArn: string;
    readonly retention: RetentionPolicy;
  };
}

const RETENTION_FIELDS = [
  'daily',
  'weekly',
  'monthly',
  'minimum',
  'preShiftDays',
  'maxDeletionsPerRun',
] as const;

/** Parses a RETENTION-style variable; throws naming the variable and the bad field. */
export function parseRetention(name: string, json: string): RetentionPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new Error(`${name} is not JSON: ${errorMessage(err)}`, { cause: err });
  }
  const r = raw as Record<string, unknown>;
  for (const f of RETENTION_FIELDS) {
    const v = r?.[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new Error(`${name}.${f} is ${JSON.stringify(v)}, expected an integer >= 0`);
    }
  }
  if ((r.minimum as number) < 1) throw new Error(`${name}.minimum must be at least 1`);
  return r as unknown as RetentionPolicy;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): SnapshotSettings {
  const retention = parseRetention('RETENTION', requireEnv('RETENTION', env));
  const quotaLimit = Number(requireEnv('QUOTA_LIMIT', env));
  if (!Number.isInteger(quotaLimit) || quotaLimit < 1)
    throw new Error(`QUOTA_LIMIT must be a positive integer`);
  const copyRegion = optionalEnv('COPY_REGION', '', env);
  return {
    envName: requireEnv('ENV_NAME', env),
    region: requireEnv('AWS_REGION', env),
    instanceIdentifier: requireEnv('INSTANCE_IDENTIFIER', env),
    quotaLimit,
    retention,
    copy: copyRegion
      ? {
          region: copyRegion,
          kmsKeyArn: requireEnv('COPY_KMS_KEY_ARN', env),
          retention: parseRetention('COPY_RETENTION', requireEnv('COPY_RETENTION', env)),
        }
      : undefined,
  };
}

export interface SnapshotDeps {
  readonly rds: RDSClient;
  readonly copyRds?: RDSClient;
  readonly cloudwatch: CloudWatchClient;
  readonly log: Logger;
  readonly now: () => Date;
}

/**
 * One scheduled run. `snapshot`: the upkeep, then a `scheduled` snapshot (not waiting for it).
 * `maintain` (every few minutes): start copies, prune both regions, publish the metrics the alarms watch;
 * an environment with no snapshot of its own at all takes one at once. Handled failures are published as
 * the SnapshotFailures metric and do not fail the invocation (a retry would only add snapshots);
 * anything unexpected is published too and rethrown.
 */
export async function runSnapshotJob(
  event: SnapshotEvent,
  settings: SnapshotSettings,
  deps: SnapshotDeps,
): Promise<SnapshotRunSummary> {
  const action = event.action ?? 'maintain';
  const dryRun = event.dryRun ?? false;
  const failures: string[] = [];
  let snapshotId: string | undefined;
  const snap = async () => {
    if (dryRun) {
      deps.log.info('would take snapshot', { reason: 'scheduled', dryRun });
      return;
    }
    try {
      const result = await takeSnapshot(deps.rds, {
        envName: settings.envName,
        instanceIdentifier: settings.instanceIdentifier,
        reason: 'scheduled',
        quotaLimit: settings.quotaLimit,
        now: deps.now(),
      });
      snapshotId = result.snapshotId;
      deps.log.info('snapshot started', { snapshotId, status: result.status });
    } catch (err) {
      const name = err instanceof Error ? err.name : 'Error';
      failures.push(`scheduled snapshot failed: ${name}: ${errorMessage(err)}`);
      deps.log.error('snapshot failed', { error: name, detail: errorMessage(err) });
    }
  };

  let report: MaintenanceReport;
  try {
    // Prune first, so expired snapshots of this tool never hold the quota the new snapshot needs.
    const options = {
      envName: settings.envName,
      source: { rds: deps.rds, region: settings.region, retention: settings.retention },
      copy: settings.copy && deps.copyRds ? { ...settings.copy, rds: deps.copyRds } : undefined,
      dryRun,
      now: deps.now(),
      log: deps.log,
    };
    report = await runMaintenance(options);
    if (action === 'snapshot') await snap();
    else if (report.source.managedCount === 0 && !dryRun) {
      deps.log.warn('no snapshot of this environment exists: taking one now');
      await snap();
    }
  } catch (err) {
    deps.log.error('snapshot run failed', { action, error: errorMessage(err) });
    await publish(deps, [
      {
        MetricName: SNAPSHOT_METRICS.failures,
        Dimensions: [{ Name: 'Environment', Value: settings.envName }],
        Value: failures.length + 1,
        Unit: 'Count',
        Timestamp: deps.now(),
      },
    ]);
    throw err;
  }
  const allFailures = [...failures, ...report.failures];
  await publish(
    deps,
    maintenanceMetrics(report, settings.envName, settings.quotaLimit, deps.now(), failures.length),
  );
  const summary: SnapshotRunSummary = {
    action,
    snapshotId,
    deleted: report.source.deleted.length + (report.copy?.deleted.length ?? 0),
    copiesStarted: report.copiesStarted.length,
    failures: allFailures,
  };
  deps.log.info('snapshot run finished', { ...summary, dryRun });
  return summary;
}

async function publish(deps: SnapshotDeps, data: MetricDatum[]): Promise<void> {
  // PutMetricData takes at most 1000 data points per call; a run produces about a dozen.
  await withRetry(() =>
    deps.cloudwatch.send(new PutMetricDataCommand({ Namespace: METRIC_NAMESPACE, MetricData: data })),
  );
}

// Module scope: created once per container, reused by every invocation.
let deps: SnapshotDeps | undefined;
let settings: SnapshotSettings | undefined;

export async function handler(event: SnapshotEvent = {}): Promise<SnapshotRunSummary> {
  settings ??= readSettings();
  deps ??= {
    rds: new RDSClient({ region: settings.region, maxAttempts: 5 }),
    copyRds: settings.copy ? new RDSClient({ region: settings.copy.region, maxAttempts: 5 }) : undefined,
    cloudwatch: new CloudWatchClient({ region: settings.region, maxAttempts: 5 }),
    log: createLogger({ service: 'snapshots', environment: settings.envName }),
    now: () => new Date(),
  };
  return runSnapshotJob(event, settings, deps);
}
