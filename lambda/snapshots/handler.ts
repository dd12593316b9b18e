import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { RDSClient } from '@aws-sdk/client-rds';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoStateStore } from '../data-checks/state-store';
import { stateTableManifestRecorder } from '../restore-drill/manifest';
import { METRIC_NAMESPACE } from '../../lib/project';
import { errorMessage, optionalEnv, requireEnv } from '../shared/env';
import { createLogger, type Logger } from '../shared/logger';
import {
  drillUpkeepMetrics,
  maintenanceMetrics,
  runDrillUpkeep,
  runMaintenance,
  SNAPSHOT_METRICS,
  type DrillUpkeepReport,
  type MaintenanceReport,
} from './maintain';
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
  /** The state table: manifests of new snapshots (restore drills) and the last drill result. */
  readonly stateTableName?: string;
  /** The checked tables (`schema.table`) whose baselines go into each snapshot's manifest. */
  readonly manifestTableKeys?: readonly string[];
  /** With a restore drill: drill instances older than this many minutes are leaked and deleted. */
  readonly drillLimitMinutes?: number;
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
  const stateTableName = optionalEnv('STATE_TABLE_NAME', '', env) || undefined;
  const keys = optionalEnv('MANIFEST_TABLE_KEYS', '', env);
  const limit = optionalEnv('DRILL_LIMIT_MINUTES', '', env);
  const drillLimitMinutes = limit ? Number(limit) : undefined;
  if (drillLimitMinutes !== undefined && (!Number.isInteger(drillLimitMinutes) || drillLimitMinutes < 1)) {
    throw new Error(`DRILL_LIMIT_MINUTES is ${JSON.stringify(limit)}, expected a positive integer`);
  }
  return {
    stateTableName,
    manifestTableKeys: keys ? (JSON.parse(keys) as string[]) : undefined,
    drillLimitMinutes,
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
  /** The state table's client (manifests, drill results). @default none: no manifest, no drill upkeep */
  readonly doc?: DynamoDBDocumentClient;
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
      const manifest =
        deps.doc && settings.stateTableName && settings.manifestTableKeys
          ? stateTableManifestRecorder(
              deps.doc,
              settings.stateTableName,
              new DynamoStateStore(deps.doc, settings.stateTableName),
              settings.manifestTableKeys,
            )
          : undefined;
      const result = await takeSnapshot(deps.rds, {
        envName: settings.envName,
        instanceIdentifier: settings.instanceIdentifier,
        reason: 'scheduled',
        quotaLimit: settings.quotaLimit,
        now: deps.now(),
        manifest,
      });
      snapshotId = result.snapshotId;
      deps.log.info('snapshot started', { snapshotId, status: result.status, manifest: result.manifest });
      if (result.manifest === 'failed') {
        failures.push(`manifest of ${snapshotId} not recorded: ${result.manifestError}`);
        deps.log.error('manifest not recorded', { snapshotId, detail: result.manifestError });
      }
    } catch (err) {
      const name = err instanceof Error ? err.name : 'Error';
      failures.push(`scheduled snapshot failed: ${name}: ${errorMessage(err)}`);
      deps.log.error('snapshot failed', { error: name, detail: errorMessage(err) });
    }
  };

  let report: MaintenanceReport;
  let drill: DrillUpkeepReport | undefined;
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
    if (settings.drillLimitMinutes !== undefined && deps.doc && settings.stateTableName) {
      drill = await runDrillUpkeep({
        envName: settings.envName,
        rds: deps.rds,
        doc: deps.doc,
        stateTableName: settings.stateTableName,
        limitMinutes: settings.drillLimitMinutes,
        dryRun,
        now: deps.now(),
        log: deps.log,
      });
      failures.push(...drill.failures);
    }
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
  await publish(deps, [
    ...maintenanceMetrics(report, settings.envName, deps.now(), failures.length),
    ...(drill ? drillUpkeepMetrics(drill, settings.envName, deps.now()) : []),
  ]);
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
    doc: settings.stateTableName
      ? DynamoDBDocumentClient.from(new DynamoDBClient({ region: settings.region, maxAttempts: 5 }), {
          marshallOptions: { removeUndefinedValues: true },
        })
      : undefined,
    log: createLogger({ service: 'snapshots', environment: settings.envName }),
    now: () => new Date(),
  };
  return runSnapshotJob(event, settings, deps);
}
