import {
  CopyDBSnapshotCommand,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { listDrillInstances } from '../restore-drill/instances';
import { DRILL_LAST_SUCCESS_SK, DRILL_METRICS, DRILL_RESULT_PK } from '../restore-drill/names';
import { errorMessage } from '../shared/env';
import type { Logger } from '../shared/logger';
import { isManagedSnapshot, TAG_SOURCE_REGION } from './naming';
import { listManualSnapshots, type SnapshotInfo } from './rds-snapshots';
import {
  IN_PROGRESS_STATUSES,
  planRetention,
  type Deletion,
  type Kept,
  type RetentionPolicy,
} from './retention';
import { withRetry, type RetryOptions } from './retry';

/** One region the tool keeps snapshots in. */
export interface SnapshotRegion {
  readonly rds: RDSClient;
  readonly region: string;
  readonly retention: RetentionPolicy;
}

export interface MaintenanceOptions {
  readonly envName: string;
  /** The instance's own region. */
  readonly source: SnapshotRegion;
  /** The copy region, when the environment copies its snapshots. */
  readonly copy?: SnapshotRegion & { readonly kmsKeyArn: string };
  /** Start cross-region copies of new snapshots (the scheduled function does; `--prune` does not). @default true */
  readonly startCopies?: boolean;
  /** At most this many copies started per run (RDS limits concurrent copies per region). @default 5 */
  readonly maxCopiesPerRun?: number;
  /** Plan and log, delete and copy nothing. */
  readonly dryRun: boolean;
  readonly now: Date;
  readonly log: Logger;
  readonly retry?: RetryOptions;
}

export interface RegionReport {
  readonly region: string;
  readonly role: 'source' | 'copy';
  /** Manual snapshots in the region after this run (all of them: the quota counts them all). */
  readonly manualCount: number;
  /** This tool's snapshots of this environment in the region after this run. */
  readonly managedCount: number;
  /** Newest available snapshot of this tool, if any. */
  readonly newest?: SnapshotInfo;
  /** Oldest of this tool's snapshots still being created or copied (with a creation time), if any. */
  readonly oldestInProgress?: SnapshotInfo;
  readonly deleted: readonly Deletion[];
  readonly kept: readonly Kept[];
  readonly foreignCount: number;
}

export interface MaintenanceReport {
  readonly dryRun: boolean;
  readonly source: RegionReport;
  readonly copy?: RegionReport;
  /** Identifiers of the copies started (or, in a dry run, that would be). */
  readonly copiesStarted: readonly string[];
  /** Every failure of this run, in words (failed snapshots, refused copies, refused deletions). */
  readonly failures: readonly string[];
}

/**
 * The scheduled upkeep: start cross-region copies of new snapshots, apply retention in both regions
 * (deleting only what `planRetention` allows, each deletion logged with its rule), and report what the
 * metrics need. Every failure is collected, never thrown, so one refused call does not stop the rest.
 */
export async function runMaintenance(opts: MaintenanceOptions): Promise<MaintenanceReport> {
  const failures: string[] = [];
  const sourceList = await listManualSnapshots(opts.source.rds, opts.retry);
  reportFailedSnapshots(sourceList, opts.source.region, opts.envName, failures, opts.log);

  let copyList: SnapshotInfo[] | undefined;
  const copiesStarted: string[] = [];
  if (opts.copy) {
    copyList = await listManualSnapshots(opts.copy.rds, opts.retry);
    reportFailedSnapshots(copyList, opts.copy.region, opts.envName, failures, opts.log);
    if (opts.startCopies ?? true) {
      for (const s of copyCandidates(sourceList, copyList, opts.envName, opts.maxCopiesPerRun ?? 5)) {
        const started = await startCopy(s, opts, failures);
        if (started) {
          copiesStarted.push(started.id);
          copyList.push(started);
        }
      }
    }
  }

  const source = await applyRetention('source', sourceList, opts.source, opts, failures);
  const copy =
    opts.copy && copyList ? await applyRetention('copy', copyList, opts.copy, opts, failures) : undefined;
  return { dryRun: opts.dryRun, source, copy, copiesStarted, failures };
}

function reportFailedSnapshots(
  list: readonly SnapshotInfo[],
  region: string,
  envName: string,
  failures: string[],
  log: Logger,
): void {
  for (const s of list) {
    if (s.status === 'failed' && isManagedSnapshot(s, envName)) {
      failures.push(`snapshot ${s.id} in ${region} failed`);
      log.error('snapshot failed', { region, snapshotId: s.id });
    }
  }
}

/**
 * Source snapshots to copy: available, the tool's own, not yet in the copy region, and newer than the
 * newest copy there (older ones were pruned there on purpose). With no copy at all, only the newest.
 * Oldest first, at most `max`.
 */
export function copyCandidates(
  sourceList: readonly SnapshotInfo[],
  copyList: readonly SnapshotInfo[],
  envName: string,
  max: number,
): SnapshotInfo[] {
  const copies = copyList.filter((s) => isManagedSnapshot(s, envName));
  const copied = new Set(copies.map((s) => s.id));
  const newestCopy = Math.max(-Infinity, ...copies.map((s) => s.createdAt?.getTime() ?? -Infinity));
  const ready = sourceList
    .filter(
      (s) => isManagedSnapshot(s, envName) && s.status === 'available' && s.createdAt && !copied.has(s.id),
    )
    .sort((a, b) => (a.createdAt as Date).getTime() - (b.createdAt as Date).getTime());
  if (copies.length === 0) return ready.slice(-1);
  return ready.filter((s) => (s.createdAt as Date).getTime() > newestCopy).slice(0, max);
}

async function startCopy(
  s: SnapshotInfo,
  opts: MaintenanceOptions,
  failures: string[],
): Promise<SnapshotInfo | undefined> {
  const copy = opts.copy as NonNullable<MaintenanceOptions['copy']>;
  const fields = { snapshotId: s.id, from: opts.source.region, to: copy.region, dryRun: opts.dryRun };
  if (opts.dryRun) {
    opts.log.info('would copy snapshot', fields);
    return { ...s, status: 'copying' };
  }
  try {
    const out = await withRetry(
      () =>
        copy.rds.send(
          new CopyDBSnapshotCommand({
            // A source ARN of another region makes the SDK add the presigned URL RDS needs.
            SourceDBSnapshotIdentifier: s.arn ?? s.id,
            TargetDBSnapshotIdentifier: s.id,
            KmsKeyId: copy.kmsKeyArn,
            Tags: [
              ...Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
              { Key: TAG_SOURCE_REGION, Value: opts.source.region },
            ],
          }),
        ),
      opts.retry,
    );
    opts.log.info('copy started', fields);
    return {
      ...s,
      arn: out.DBSnapshot?.DBSnapshotArn,
      status: out.DBSnapshot?.Status ?? 'copying',
      tags: { ...s.tags, [TAG_SOURCE_REGION]: opts.source.region },
    };
  } catch (err) {
    const name = err instanceof Error ? err.name : 'Error';
    failures.push(`copy of ${s.id} to ${copy.region} failed: ${name}: ${errorMessage(err)}`);
    opts.log.error('copy failed', { ...fields, error: name, detail: errorMessage(err) });
    return undefined;
  }
}

async function applyRetention(
  role: 'source' | 'copy',
  list: readonly SnapshotInfo[],
  where: SnapshotRegion,
  opts: MaintenanceOptions,
  failures: string[],
): Promise<RegionReport> {
  const plan = planRetention(list, where.retention, { envName: opts.envName, now: opts.now });
  const deleted: Deletion[] = [];
  for (const d of plan.delete) {
    const fields = {
      region: where.region,
      snapshotId: d.snapshot.id,
      rule: d.rule,
      detail: d.detail,
      dryRun: opts.dryRun,
    };
    if (opts.dryRun) {
      opts.log.info('would delete snapshot', fields);
      deleted.push(d);
      continue;
    }
    try {
      await withRetry(
        () => where.rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: d.snapshot.id })),
        opts.retry,
      );
      opts.log.info('deleted snapshot', fields);
      deleted.push(d);
    } catch (err) {
      const name = err instanceof Error ? err.name : 'Error';
      failures.push(`deletion of ${d.snapshot.id} in ${where.region} failed: ${name}: ${errorMessage(err)}`);
      opts.log.error('deletion failed', { ...fields, error: name, detail: errorMessage(err) });
    }
  }
  const gone = new Set(deleted.map((d) => d.snapshot));
  const remaining = list.filter((s) => !gone.has(s));
  const managed = remaining.filter((s) => isManagedSnapshot(s, opts.envName));
  const newest = managed
    .filter((s) => s.status === 'available' && s.createdAt)
    .sort((a, b) => (b.createdAt as Date).getTime() - (a.createdAt as Date).getTime())[0];
  const oldestInProgress = managed
    .filter((s) => IN_PROGRESS_STATUSES.has(s.status) && s.createdAt)
    .sort((a, b) => (a.createdAt as Date).getTime() - (b.createdAt as Date).getTime())[0];
  return {
    region: where.region,
    role,
    manualCount: remaining.length,
    managedCount: managed.length,
    newest,
    oldestInProgress,
    deleted,
    kept: plan.keep,
    foreignCount: plan.foreign.length,
  };
}

/** Metric names this capability publishes (namespace PipelineGuardrails, dimensions Environment, Region). */
export const SNAPSHOT_METRICS = {
  manualCount: 'ManualSnapshotCount',
  newestAgeMinutes: 'NewestSnapshotAgeMinutes',
  failures: 'SnapshotFailures',
  deleted: 'SnapshotsDeleted',
  copiesStarted: 'SnapshotCopiesStarted',
} as const;

/**
 * The metric data of one run. The age is left out when there is no snapshot at all (available or in
 * progress), so its alarm sees silence and fires.
 */
export function maintenanceMetrics(
  report: MaintenanceReport,
  envName: string,
  now: Date,
  extraFailures = 0,
): MetricDatum[] {
  const data: MetricDatum[] = [];
  const dims = (region: string) => [
    { Name: 'Environment', Value: envName },
    { Name: 'Region', Value: region },
  ];
  for (const r of [report.source, report.copy]) {
    if (!r) continue;
    const Dimensions = dims(r.region);
    data.push({
      MetricName: SNAPSHOT_METRICS.manualCount,
      Dimensions,
      Value: r.manualCount,
      Unit: 'Count',
      Timestamp: now,
    });
    // Only when non-zero: the graph alone reads it, and a series costs for every hour it receives data.
    if (r.deleted.length > 0)
      data.push({
        MetricName: SNAPSHOT_METRICS.deleted,
        Dimensions,
        Value: r.deleted.length,
        Unit: 'Count',
        Timestamp: now,
      });
    // Before the first snapshot is available (a new environment, a new copy region), the age counts from
    // the start of the oldest one in progress: no false page at the first deploy, yet a stuck one alarms.
    const since = r.newest?.createdAt ?? r.oldestInProgress?.createdAt;
    if (since) {
      const age = Math.max(0, (now.getTime() - since.getTime()) / 60_000);
      data.push({
        MetricName: SNAPSHOT_METRICS.newestAgeMinutes,
        Dimensions,
        Value: Math.round(age * 10) / 10,
        Unit: 'None',
        Timestamp: now,
      });
    }
  }
  const Dimensions = [{ Name: 'Environment', Value: envName }];
  // Failures and copies only when non-zero: the failure alarm treats missing data as not breaching (a 0 and
  // no datapoint are the same to it) and only the graph reads the copies started.
  const failures = report.failures.length + extraFailures;
  if (failures > 0)
    data.push({
      MetricName: SNAPSHOT_METRICS.failures,
      Dimensions,
      Value: failures,
      Unit: 'Count',
      Timestamp: now,
    });
  const copies = report.dryRun ? 0 : report.copiesStarted.length;
  if (copies > 0)
    data.push({
      MetricName: SNAPSHOT_METRICS.copiesStarted,
      Dimensions,
      Value: copies,
      Unit: 'Count',
      Timestamp: now,
    });
  return data;
}

/** The restore drill's part of the upkeep (environments with `snapshots.drill`). */
export interface DrillUpkeepOptions {
  readonly envName: string;
  readonly rds: RDSClient;
  readonly doc: DynamoDBDocumentClient;
  readonly stateTableName: string;
  /** Longest a drill execution runs (drillExecutionLimitMinutes): older drill instances are leaked. */
  readonly limitMinutes: number;
  readonly dryRun: boolean;
  readonly now: Date;
  readonly log: Logger;
  readonly retry?: RetryOptions;
}

export interface DrillUpkeepReport {
  /** Drill instances older than the limit: no live drill owns them. */
  readonly leaked: readonly string[];
  readonly deleted: readonly string[];
  /** Days since the newest successful drill; undefined when none ever succeeded. */
  readonly daysSinceSuccess?: number;
  readonly failures: readonly string[];
}

/**
 * Deletes drill instances that outlived every drill (a stopped execution, a cleanup that gave up): only
 * prefixed instances tagged as this environment's drill instances, older than the drill's execution limit,
 * without a final snapshot. Also reads the newest successful drill for the days-since-success metric.
 */
export async function runDrillUpkeep(opts: DrillUpkeepOptions): Promise<DrillUpkeepReport> {
  const failures: string[] = [];
  const leaked: string[] = [];
  const deleted: string[] = [];
  const cutoff = opts.now.getTime() - opts.limitMinutes * 60_000;
  for (const i of await listDrillInstances(opts.rds, opts.envName, opts.retry)) {
    if (i.status === 'deleting' || !i.startedAt || i.startedAt.getTime() > cutoff) continue;
    leaked.push(i.id);
    const fields = {
      instanceId: i.id,
      status: i.status,
      startedAt: i.startedAt.toISOString(),
      dryRun: opts.dryRun,
    };
    if (opts.dryRun) {
      opts.log.warn('would delete leaked drill instance', fields);
      continue;
    }
    try {
      await withRetry(
        () =>
          opts.rds.send(
            new DeleteDBInstanceCommand({
              DBInstanceIdentifier: i.id,
              SkipFinalSnapshot: true,
              DeleteAutomatedBackups: true,
            }),
          ),
        opts.retry,
      );
      deleted.push(i.id);
      opts.log.warn('deleted leaked drill instance', fields);
    } catch (err) {
      if (err instanceof Error && err.name === 'DBInstanceNotFoundFault') continue;
      const name = err instanceof Error ? err.name : 'Error';
      failures.push(`deletion of leaked drill instance ${i.id} failed: ${name}: ${errorMessage(err)}`);
      opts.log.error('leaked drill instance not deleted', {
        ...fields,
        error: name,
        detail: errorMessage(err),
      });
    }
  }
  let daysSinceSuccess: number | undefined;
  try {
    const out = await opts.doc.send(
      new GetCommand({
        TableName: opts.stateTableName,
        Key: { pk: DRILL_RESULT_PK, sk: DRILL_LAST_SUCCESS_SK },
        ConsistentRead: true,
      }),
    );
    const at = Date.parse(String(out.Item?.finishedAt ?? ''));
    if (!Number.isNaN(at)) daysSinceSuccess = Math.max(0, (opts.now.getTime() - at) / 86_400_000);
  } catch (err) {
    failures.push(`cannot read the last successful drill: ${errorMessage(err)}`);
  }
  return { leaked, deleted, daysSinceSuccess, failures };
}

/**
 * Metric data of the drill upkeep: leaked instances when there were any (its alarm treats missing data as not
 * breaching, so a 0 would say nothing more) and days since success.
 */
export function drillUpkeepMetrics(report: DrillUpkeepReport, envName: string, now: Date): MetricDatum[] {
  const Dimensions = [{ Name: 'Environment', Value: envName }];
  const data: MetricDatum[] = [];
  if (report.leaked.length > 0)
    data.push({
      MetricName: DRILL_METRICS.leakedInstancesDeleted,
      Dimensions,
      Value: report.leaked.length,
      Unit: 'Count',
      Timestamp: now,
    });
  if (report.daysSinceSuccess !== undefined) {
    data.push({
      MetricName: DRILL_METRICS.daysSinceSuccess,
      Dimensions,
      Value: Math.round(report.daysSinceSuccess * 100) / 100,
      Unit: 'None',
      Timestamp: now,
    });
  }
  return data;
}
