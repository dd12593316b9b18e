import { randomBytes } from 'node:crypto';
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { METRIC_NAMESPACE } from '../../lib/project';
import type { Logger } from '../shared/logger';
import { isManagedSnapshot } from '../snapshots/naming';
import { listManualSnapshots, toSnapshotInfo } from '../snapshots/rds-snapshots';
import { withRetry } from '../snapshots/retry';
import {
  DrillCleanupPendingError,
  DrillRefusedError,
  DrillRestoreFailedError,
  DrillTimeoutError,
} from './errors';
import { listDrillInstances, tagsOf } from './instances';
import { loadManifest } from './manifest';
import {
  DRILL_LAST_SUCCESS_SK,
  DRILL_LATEST_SK,
  DRILL_METRICS,
  DRILL_RESULT_PK,
  drillExecutionLimitMinutes,
  drillInstanceIdentifier,
  drillInstanceTags,
  isDrillInstance,
} from './names';
import type { DrillVerification } from './verify';

/**
 * The drill state machine's task function: one `action` per task state, each short and safe to retry
 * (the instance identifier comes from the execution's start time, so a retried restore finds its own
 * instance). The state machine owns the flow: the Wait loops, and the cleanup on every path.
 */

export type DrillAction =
  'start' | 'restore' | 'restore-status' | 'credentials' | 'credentials-status' | 'cleanup' | 'record';

/** `$.drill`: what the start task decided. */
export interface DrillPlan {
  readonly instanceId: string;
  readonly snapshotId: string;
  readonly snapshotCreatedAt: string;
  readonly hasManifest: boolean;
  readonly startedAt: string;
}

/** `$.restore` and `$.credentials`: where the copy is. */
export interface InstanceStatus {
  readonly available: boolean;
  readonly status: string;
  readonly requestedAt: string;
  readonly elapsedSeconds: number;
  readonly endpoint?: string;
  readonly port?: number;
}

/** The execution's document as the tasks see it. */
export interface DrillState {
  /** Execution input: drill this snapshot instead of the newest. */
  readonly snapshotId?: string;
  readonly trigger?: string;
  readonly requestedBy?: string;
  readonly drill?: DrillPlan;
  readonly restore?: InstanceStatus;
  readonly credentials?: InstanceStatus;
  readonly verification?: DrillVerification;
  readonly cleanup?: { readonly deleted: boolean; readonly detail: string };
  /** Set by a Catch: the error that sent the execution to the cleanup. */
  readonly error?: { readonly Error: string; readonly Cause?: string };
  /** Set when the cleanup itself failed (after its retries). */
  readonly cleanupError?: { readonly Error: string; readonly Cause?: string };
}

export interface DrillEvent {
  readonly action: DrillAction;
  readonly state: DrillState;
  readonly execution: { readonly name: string; readonly startTime: string };
}

export interface DrillSettings {
  readonly envName: string;
  readonly stateTableName: string;
  readonly instanceClass: string;
  readonly subnetGroupName: string;
  readonly securityGroupId: string;
  readonly secretArn: string;
  /** Port of the restored copy (the guarded database's). */
  readonly port: number;
  readonly timeoutMinutes: number;
  readonly recoveryTimeObjectiveMinutes: number;
}

export interface DrillContext {
  readonly settings: DrillSettings;
  readonly clients: {
    readonly rds: RDSClient;
    readonly secrets: SecretsManagerClient;
    readonly doc: DynamoDBDocumentClient;
    readonly cloudwatch: CloudWatchClient;
  };
  readonly log: Logger;
  readonly now: () => Date;
  /** Password generator (tests). @default 32 random URL-safe characters */
  readonly password?: () => string;
}

export type DrillOutcome = 'succeeded' | 'failed' | 'timed-out' | 'error';

/** `$.result`: what the record task wrote. */
export interface DrillResult {
  readonly outcome: DrillOutcome;
  readonly passed: boolean;
  readonly error: string;
  readonly cause: string;
  readonly instanceDeleted: boolean;
}

/** RDS statuses a restore or a modification never comes back from. */
const FAILED_STATUSES = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'incompatible-option-group',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'restore-error',
  'storage-full',
]);

/** Longest the credentials change may take before the drill gives up. */
const CREDENTIALS_TIMEOUT_SECONDS = 30 * 60;
/** How many of the newest snapshots the start task looks through for one with a manifest. */
const MANIFEST_LOOKBACK = 5;

export async function runDrillAction(event: DrillEvent, ctx: DrillContext): Promise<unknown> {
  switch (event.action) {
    case 'start':
      return start(event, ctx);
    case 'restore':
      return restore(event, ctx);
    case 'restore-status':
      return status(requireDrill(event), event.state.restore, ctx, ctx.settings.timeoutMinutes * 60);
    case 'credentials':
      return credentials(event, ctx);
    case 'credentials-status':
      return status(requireDrill(event), event.state.credentials, ctx, CREDENTIALS_TIMEOUT_SECONDS, true);
    case 'cleanup':
      return cleanup(event, ctx);
    case 'record':
      return record(event, ctx);
    default: {
      const unknown: never = event.action;
      throw new Error(`unknown drill action ${JSON.stringify(unknown)}`);
    }
  }
}

function requireDrill(event: DrillEvent): DrillPlan {
  if (!event.state.drill) throw new Error(`${event.action}: no $.drill in the execution state`);
  return event.state.drill;
}

async function describeInstance(rds: RDSClient, id: string): Promise<DBInstance | undefined> {
  try {
    const out = await withRetry(() => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })));
    return out.DBInstances?.[0];
  } catch (err) {
    if (err instanceof Error && err.name === 'DBInstanceNotFoundFault') return undefined;
    throw err;
  }
}

async function start(event: DrillEvent, ctx: DrillContext): Promise<DrillPlan> {
  const { envName, stateTableName } = ctx.settings;
  const { rds, doc } = ctx.clients;
  const startedAt = new Date(event.execution.startTime);
  if (Number.isNaN(startedAt.getTime())) {
    throw new Error(`execution start time ${JSON.stringify(event.execution.startTime)} is not a date`);
  }
  const instanceId = drillInstanceIdentifier(envName, startedAt);
  const limit = drillExecutionLimitMinutes(ctx.settings.timeoutMinutes);
  const others = (await listDrillInstances(rds, envName)).filter(
    (i) => i.id !== instanceId && i.status !== 'deleting',
  );
  if (others.length > 0) {
    throw new DrillRefusedError(
      `another drill instance exists: ${others.map((o) => `${o.id} (${o.status})`).join(', ')}; one drill at a time (the snapshot upkeep deletes instances older than ${limit} minutes)`,
    );
  }

  let snapshot;
  if (event.state.snapshotId) {
    const out = await withRetry(() =>
      rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: event.state.snapshotId })),
    ).catch((err: unknown) => {
      if (err instanceof Error && err.name === 'DBSnapshotNotFoundFault') return { DBSnapshots: [] };
      throw err;
    });
    const s = out.DBSnapshots?.[0];
    const info = s ? toSnapshotInfo(s) : undefined;
    if (!s || !info) throw new DrillRefusedError(`snapshot ${event.state.snapshotId} does not exist`);
    if (!isManagedSnapshot(info, envName)) {
      throw new DrillRefusedError(
        `snapshot ${info.id} is not a pipeline-guardrails snapshot of ${envName} (prefix and tags): the drill restores only the tool's own`,
      );
    }
    if (info.status !== 'available')
      throw new DrillRefusedError(`snapshot ${info.id} is ${info.status}, not available`);
    snapshot = { info, encrypted: s.Encrypted === true };
  } else {
    const candidates = (await listManualSnapshots(rds))
      .filter((s) => isManagedSnapshot(s, envName) && s.status === 'available' && s.createdAt)
      .sort((a, b) => (b.createdAt as Date).getTime() - (a.createdAt as Date).getTime());
    if (candidates.length === 0) {
      throw new DrillRefusedError(`no available pipeline-guardrails snapshot of ${envName} to drill`);
    }
    // The newest with a manifest (so every rule can be checked); else the newest, whose drill then fails.
    let picked = candidates[0]!;
    for (const c of candidates.slice(0, MANIFEST_LOOKBACK)) {
      if (await loadManifest(doc, stateTableName, c.id)) {
        picked = c;
        break;
      }
    }
    const full = await withRetry(() =>
      rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: picked.id })),
    );
    snapshot = { info: picked, encrypted: full.DBSnapshots?.[0]?.Encrypted === true };
  }
  if (!snapshot.encrypted) {
    throw new DrillRefusedError(
      `snapshot ${snapshot.info.id} is not encrypted: its copy would not be either; the drill restores encrypted snapshots only`,
    );
  }
  const hasManifest = (await loadManifest(doc, stateTableName, snapshot.info.id)) !== undefined;
  const plan: DrillPlan = {
    instanceId,
    snapshotId: snapshot.info.id,
    snapshotCreatedAt: (snapshot.info.createdAt ?? startedAt).toISOString(),
    hasManifest,
    startedAt: startedAt.toISOString(),
  };
  ctx.log.info('drill planned', { ...plan });
  return plan;
}

async function restore(event: DrillEvent, ctx: DrillContext): Promise<InstanceStatus> {
  const drill = requireDrill(event);
  const s = ctx.settings;
  const requestedAt = ctx.now();
  try {
    await withRetry(() =>
      ctx.clients.rds.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: drill.instanceId,
          DBSnapshotIdentifier: drill.snapshotId,
          DBInstanceClass: s.instanceClass,
          DBSubnetGroupName: s.subnetGroupName,
          VpcSecurityGroupIds: [s.securityGroupId],
          Port: s.port,
          PubliclyAccessible: false,
          MultiAZ: false,
          DeletionProtection: false,
          AutoMinorVersionUpgrade: false,
          CopyTagsToSnapshot: false,
          Tags: drillInstanceTags(s.envName),
        }),
      ),
    );
  } catch (err) {
    if (!(err instanceof Error && err.name === 'DBInstanceAlreadyExistsFault')) throw err;
    // A retried task: the first call got through. Only our own drill instance counts as restored.
    const existing = await describeInstance(ctx.clients.rds, drill.instanceId);
    if (!existing || !isDrillInstance({ id: drill.instanceId, tags: tagsOf(existing) }, s.envName)) {
      throw new DrillRefusedError(`${drill.instanceId} exists but is not this drill's instance`);
    }
    const at = existing.InstanceCreateTime ?? requestedAt;
    ctx.log.info('restore already requested', { instanceId: drill.instanceId });
    return {
      available: false,
      status: existing.DBInstanceStatus ?? 'creating',
      requestedAt: at.toISOString(),
      elapsedSeconds: 0,
    };
  }
  ctx.log.info('restore requested', { instanceId: drill.instanceId, snapshotId: drill.snapshotId });
  return { available: false, status: 'creating', requestedAt: requestedAt.toISOString(), elapsedSeconds: 0 };
}

async function status(
  drill: DrillPlan,
  previous: InstanceStatus | undefined,
  ctx: DrillContext,
  timeoutSeconds: number,
  credentials = false,
): Promise<InstanceStatus> {
  if (!previous) throw new Error('status check before the request');
  const elapsedSeconds = Math.round((ctx.now().getTime() - Date.parse(previous.requestedAt)) / 1000);
  const i = await describeInstance(ctx.clients.rds, drill.instanceId);
  if (!i)
    throw new DrillRestoreFailedError(`${drill.instanceId} no longer exists (deleted during the drill?)`);
  const st = i.DBInstanceStatus ?? 'unknown';
  if (FAILED_STATUSES.has(st)) {
    throw new DrillRestoreFailedError(
      `${drill.instanceId} is ${st} after ${elapsedSeconds}s; see its RDS events`,
    );
  }
  const pendingPassword = credentials && i.PendingModifiedValues?.MasterUserPassword !== undefined;
  const available = st === 'available' && !pendingPassword && i.Endpoint?.Address !== undefined;
  if (!available && elapsedSeconds > timeoutSeconds) {
    throw new DrillTimeoutError(
      `${drill.instanceId} still ${st} after ${elapsedSeconds}s (limit ${timeoutSeconds}s)`,
    );
  }
  return {
    available,
    status: st,
    requestedAt: previous.requestedAt,
    elapsedSeconds,
    endpoint: i.Endpoint?.Address,
    port: i.Endpoint?.Port,
  };
}

async function credentials(event: DrillEvent, ctx: DrillContext): Promise<InstanceStatus> {
  const drill = requireDrill(event);
  const i = await describeInstance(ctx.clients.rds, drill.instanceId);
  if (!i || !isDrillInstance({ id: drill.instanceId, tags: tagsOf(i) }, ctx.settings.envName)) {
    throw new DrillRestoreFailedError(`${drill.instanceId} is gone or not a drill instance`);
  }
  const password = (ctx.password ?? (() => randomBytes(24).toString('base64url')))();
  const requestedAt = ctx.now();
  // The secret first: it always holds the newest password asked for, so a retry after a crash
  // between the two calls just sets a newer one.
  await withRetry(() =>
    ctx.clients.secrets.send(
      new PutSecretValueCommand({
        SecretId: ctx.settings.secretArn,
        SecretString: JSON.stringify({
          username: i.MasterUsername,
          password,
          instanceIdentifier: drill.instanceId,
          snapshotId: drill.snapshotId,
        }),
      }),
    ),
  );
  await withRetry(() =>
    ctx.clients.rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: drill.instanceId,
        MasterUserPassword: password,
        ApplyImmediately: true,
      }),
    ),
  );
  ctx.log.info('drill credentials set', { instanceId: drill.instanceId, secret: ctx.settings.secretArn });
  return {
    available: false,
    status: 'resetting-master-credentials',
    requestedAt: requestedAt.toISOString(),
    elapsedSeconds: 0,
  };
}

async function cleanup(event: DrillEvent, ctx: DrillContext): Promise<{ deleted: boolean; detail: string }> {
  const drill = event.state.drill;
  if (!drill) return { deleted: false, detail: 'no instance was planned' };
  const i = await describeInstance(ctx.clients.rds, drill.instanceId);
  if (!i)
    return {
      deleted: true,
      detail: `${drill.instanceId} does not exist (never created, or already deleted)`,
    };
  if (!isDrillInstance({ id: drill.instanceId, tags: tagsOf(i) }, ctx.settings.envName)) {
    throw new DrillRefusedError(`${drill.instanceId} is not tagged as a drill instance: not deleting it`);
  }
  if (i.DBInstanceStatus === 'deleting')
    return { deleted: true, detail: `${drill.instanceId} is being deleted` };
  try {
    await withRetry(() =>
      ctx.clients.rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: drill.instanceId,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      ),
    );
  } catch (err) {
    if (err instanceof Error && err.name === 'DBInstanceNotFoundFault') {
      return { deleted: true, detail: `${drill.instanceId} already deleted` };
    }
    if (err instanceof Error && err.name === 'InvalidDBInstanceStateFault') {
      throw new DrillCleanupPendingError(`${drill.instanceId} cannot be deleted yet: ${err.message}`);
    }
    throw err;
  }
  ctx.log.info('drill instance deleted', { instanceId: drill.instanceId });
  return { deleted: true, detail: `${drill.instanceId} deleted (no final snapshot)` };
}

/** The outcome of an execution from its state: an error beats a failed check beats success. */
export function drillOutcome(state: DrillState): { outcome: DrillOutcome; error: string; cause: string } {
  if (state.error) {
    const timedOut = state.error.Error === 'DrillTimedOut';
    return {
      outcome: timedOut ? 'timed-out' : 'error',
      error: state.error.Error,
      cause: causeText(state.error.Cause),
    };
  }
  const v = state.verification;
  if (!v)
    return { outcome: 'error', error: 'DrillNotVerified', cause: 'the drill ended without a verification' };
  if (!v.passed) {
    const failed = v.findings.filter((f) => !f.passed);
    return {
      outcome: 'failed',
      error: 'DrillChecksFailed',
      cause:
        `${failed.length} check(s) failed: ${failed.map((f) => `${f.rule} ${f.target}: ${f.detail}`).join('; ')}`.slice(
          0,
          4000,
        ),
    };
  }
  if (state.cleanupError) {
    return { outcome: 'error', error: 'DrillCleanupFailed', cause: causeText(state.cleanupError.Cause) };
  }
  return { outcome: 'succeeded', error: '', cause: '' };
}

/** The message inside a Lambda error's Cause (JSON with errorMessage), else the text itself. */
function causeText(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}

const minutesBetween = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 60_000;
const round1 = (n: number) => Math.round(n * 10) / 10;

/** The metric data of one drill; timings only for the phases that happened. */
export function drillMetrics(
  state: DrillState,
  outcome: DrillOutcome,
  envName: string,
  now: Date,
): MetricDatum[] {
  const Dimensions = [{ Name: 'Environment', Value: envName }];
  const datum = (MetricName: string, Value: number, Unit: MetricDatum['Unit']): MetricDatum => ({
    MetricName,
    Dimensions,
    Value,
    Unit,
    Timestamp: now,
  });
  const data = [datum(DRILL_METRICS.succeeded, outcome === 'succeeded' ? 1 : 0, 'Count')];
  const r = state.restore;
  if (r?.available) data.push(datum(DRILL_METRICS.restoreMinutes, round1(r.elapsedSeconds / 60), 'None'));
  else if (outcome === 'timed-out' && r) {
    // A timed-out restore took at least this long: the objective alarm must see it.
    data.push(datum(DRILL_METRICS.restoreMinutes, round1(r.elapsedSeconds / 60), 'None'));
  }
  const v = state.verification;
  if (v) {
    data.push(datum(DRILL_METRICS.verifyMinutes, round1(v.durationMs / 60_000), 'None'));
    data.push(datum(DRILL_METRICS.checksFailed, v.failedCount, 'Count'));
  }
  if (state.drill) {
    data.push(
      datum(
        DRILL_METRICS.totalMinutes,
        round1(minutesBetween(state.drill.startedAt, now.toISOString())),
        'None',
      ),
    );
    data.push(
      datum(
        DRILL_METRICS.recoveryPointAgeHours,
        round1(minutesBetween(state.drill.snapshotCreatedAt, state.drill.startedAt) / 60),
        'None',
      ),
    );
  }
  return data;
}

async function record(event: DrillEvent, ctx: DrillContext): Promise<DrillResult> {
  const state = event.state;
  const now = ctx.now();
  const { outcome, error, cause } = drillOutcome(state);
  const instanceDeleted = state.cleanup?.deleted === true;
  await withRetry(() =>
    ctx.clients.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: METRIC_NAMESPACE,
        MetricData: drillMetrics(state, outcome, ctx.settings.envName, now),
      }),
    ),
  );
  const item = {
    outcome,
    execution: event.execution.name,
    trigger: state.trigger ?? 'on-demand',
    requestedBy: state.requestedBy,
    snapshotId: state.drill?.snapshotId,
    snapshotCreatedAt: state.drill?.snapshotCreatedAt,
    instanceId: state.drill?.instanceId,
    startedAt: state.drill?.startedAt ?? event.execution.startTime,
    finishedAt: now.toISOString(),
    restoreSeconds: state.restore?.available ? state.restore.elapsedSeconds : undefined,
    withinObjective: state.restore?.available
      ? state.restore.elapsedSeconds <= ctx.settings.recoveryTimeObjectiveMinutes * 60
      : undefined,
    verifySeconds: state.verification ? Math.round(state.verification.durationMs / 1000) : undefined,
    checksFailed: state.verification?.failedCount,
    findings: state.verification?.findings.filter((f) => !f.passed),
    error: error || undefined,
    cause: cause || undefined,
    instanceDeleted,
    cleanupDetail:
      state.cleanup?.detail ?? (state.cleanupError ? causeText(state.cleanupError.Cause) : undefined),
  };
  const put = (sk: string) =>
    withRetry(() =>
      ctx.clients.doc.send(
        new PutCommand({
          TableName: ctx.settings.stateTableName,
          Item: JSON.parse(JSON.stringify({ pk: DRILL_RESULT_PK, sk, ...item })) as Record<string, unknown>,
        }),
      ),
    );
  await put(`run#${item.startedAt}`);
  await put(DRILL_LATEST_SK);
  if (outcome === 'succeeded') await put(DRILL_LAST_SUCCESS_SK);
  const level = outcome === 'succeeded' ? 'info' : 'error';
  ctx.log.log(level, `restore drill ${outcome}`, item);
  return {
    outcome,
    passed: outcome === 'succeeded',
    error: error || 'none',
    cause: cause || 'none',
    instanceDeleted,
  };
}
