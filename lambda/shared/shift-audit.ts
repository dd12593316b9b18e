import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { STATE_KEYS } from '../../lib/project';
import type { Weights } from './traffic';

/**
 * The traffic-shift audit and lease, kept in the environment's state table (STATE_TABLE_NAME):
 * - audit entries under pk `shift#audit`, sk `<ISO time>#<id>` (newest last);
 * - the lease at pk `shift#lock`, sk `lock` (see `acquireLease`).
 */
export const AUDIT_PK = STATE_KEYS.auditPk;
export const LOCK_KEY = STATE_KEYS.lease;

export type ShiftKind =
  | 'shift'
  | 'rollback'
  | 'auto-rollback'
  | 'plan-step'
  | 'plan-abort'
  /** A rollout plan paused for a person (a pause step, or not enough evidence); traffic unchanged. */
  | 'plan-pause'
  /** A person promoted a rollout step (`shift --promote [--full]`); traffic changes at the next step. */
  | 'plan-promote';
export type ShiftOutcome = 'applied' | 'rolled-back' | 'refused' | 'failed' | 'dry-run';

export interface ShiftRecord {
  readonly id: string;
  /** ISO time the change was made. */
  readonly at: string;
  /** Who: IAM principal ARN, or the function / state machine that acted. */
  readonly actor: string;
  readonly kind: ShiftKind;
  readonly from: Weights;
  readonly to: Weights;
  readonly outcome: ShiftOutcome;
  readonly forced: boolean;
  readonly reason?: string;
  readonly snapshotId?: string;
  /** Alarm name -> state at the time of the change. */
  readonly alarmStates?: Record<string, string>;
  readonly planId?: string;
  readonly detail?: string;
  /** The writer's operation id (a retried step records the same id: see `recordShift`). */
  readonly operationId?: string;
}

export async function recordShift(
  doc: DynamoDBDocumentClient,
  tableName: string,
  entry: Omit<ShiftRecord, 'id' | 'at'> & { at?: string },
): Promise<ShiftRecord> {
  // With an operation id (and the time that operation first wrote its intent, see traffic.ts) the entry's
  // key is stable, so a retried writer (Step Functions Retry, a duplicate event) writes it once.
  const id = entry.operationId ?? randomUUID();
  const record: ShiftRecord = { ...entry, id, at: entry.at ?? new Date().toISOString() };
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: AUDIT_PK, sk: `${record.at}#${record.id}`, ...record },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (err) {
    if (!(entry.operationId && err instanceof ConditionalCheckFailedException)) throw err;
  }
  return record;
}

/** The most recent audit entries, newest first. */
export async function recentShifts(
  doc: DynamoDBDocumentClient,
  tableName: string,
  limit = 10,
): Promise<ShiftRecord[]> {
  const out = await doc.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': AUDIT_PK },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  return (out.Items ?? []).map(({ pk: _pk, sk: _sk, ...rest }) => rest as ShiftRecord);
}

export interface LockHolder {
  readonly owner: string;
  readonly acquiredAt: string;
  /** Unix seconds, by the holder's clock at its last renewal. Informational: see `acquireLease`. */
  readonly expiresAt: number;
  readonly purpose: string;
  /** Fencing token: new at every acquisition; every fenced write is conditioned on it. */
  readonly leaseId?: string;
  /** Incremented at every renewal: an observer sees a live holder as a changing version. */
  readonly version?: number;
  readonly ttlSeconds?: number;
  readonly renewedAt?: string;
}

/** What a holder keeps: the token its writes are fenced on. */
export interface Lease {
  readonly owner: string;
  readonly leaseId: string;
  readonly ttlSeconds: number;
  readonly purpose: string;
}

export class LockHeldError extends Error {
  constructor(readonly holder: LockHolder | undefined) {
    super(
      holder
        ? `another shift is in progress: locked by ${holder.owner} since ${holder.acquiredAt} for "${holder.purpose}" (lease ${holder.leaseId ?? '?'}, last renewed ${holder.renewedAt ?? holder.acquiredAt}, expires ${new Date(holder.expiresAt * 1000).toISOString()} unless renewed)`
        : 'another shift is in progress',
    );
    this.name = 'LockHeldError';
  }
}

/** The lease was taken over or released under its holder: it must not write (fencing). */
export class LeaseLostError extends Error {
  constructor(readonly lease: Lease) {
    super(
      `the traffic lease ${lease.leaseId} of ${lease.owner} is no longer held (it expired and was taken over, or was released by a rollback): stopped before changing anything`,
    );
    this.name = 'LeaseLostError';
  }
}

/** Reads the lease item (consistent read); undefined when nobody holds it. */
export async function readLease(
  doc: DynamoDBDocumentClient,
  tableName: string,
): Promise<LockHolder | undefined> {
  const out = await doc.send(new GetCommand({ TableName: tableName, Key: LOCK_KEY, ConsistentRead: true }));
  if (!out.Item) return undefined;
  const { pk: _pk, sk: _sk, ...rest } = out.Item;
  return rest as LockHolder;
}

export interface AcquireOptions {
  /** Fencing token to use (a retried plan start reuses its plan id). @default a new random id */
  readonly leaseId?: string;
  /**
   * Take over a lease its holder stopped renewing. Expiry is never judged by comparing clocks: the caller
   * reads the lease, waits `ttlSeconds` of ITS OWN elapsed time (`sleep`), reads again, and takes it over
   * only if neither the lease id nor the renewal version moved in between (a live holder renews at least
   * every third of its TTL). The takeover is a compare-and-set on exactly what was observed, and it makes
   * a new lease id, so a holder that was only slow fails its next fenced write.
   */
  readonly takeOver?: { readonly sleep: (ms: number) => Promise<void> };
}

function holderFrom(item: Record<string, { S?: string; N?: string }> | undefined): LockHolder | undefined {
  if (!item) return undefined;
  return {
    owner: item.owner?.S ?? 'unknown',
    acquiredAt: item.acquiredAt?.S ?? 'unknown',
    expiresAt: Number(item.expiresAt?.N ?? 0),
    purpose: item.purpose?.S ?? 'unknown',
    leaseId: item.leaseId?.S,
    version: item.version?.N !== undefined ? Number(item.version.N) : undefined,
    renewedAt: item.renewedAt?.S,
  };
}

/**
 * Takes the environment's traffic lease, or throws LockHeldError naming the holder. The same owner
 * re-acquiring (a retried task) gets its lease back with the same token.
 */
export async function acquireLease(
  doc: DynamoDBDocumentClient,
  tableName: string,
  owner: string,
  purpose: string,
  ttlSeconds: number,
  now: () => Date,
  options: AcquireOptions = {},
): Promise<Lease> {
  const leaseId = options.leaseId ?? randomUUID();
  const put = async (condition: string, values: Record<string, unknown>, names: Record<string, string>) => {
    const at = now();
    const item = {
      ...LOCK_KEY,
      owner,
      purpose,
      leaseId,
      version: 1,
      ttlSeconds,
      acquiredAt: at.toISOString(),
      renewedAt: at.toISOString(),
      expiresAt: Math.floor(at.getTime() / 1000) + ttlSeconds,
    };
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: item,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  };
  try {
    await put(
      'attribute_not_exists(pk) OR (#owner = :owner AND leaseId = :leaseId)',
      { ':owner': owner, ':leaseId': leaseId },
      { '#owner': 'owner' },
    );
    return { owner, leaseId, ttlSeconds, purpose };
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    const seen = holderFrom(err.Item as Record<string, { S?: string; N?: string }> | undefined);
    // A lease that looks live by our clock is refused at once; one that looks expired is only taken
    // over once its staleness is proven (no renewal during one TTL of our own time): skewed clocks can
    // delay a takeover, never let two holders act.
    if (!options.takeOver || !seen || seen.expiresAt * 1000 >= now().getTime()) throw new LockHeldError(seen);
    // Not renewed within one TTL of our own elapsed time: the holder is gone.
    const seenTtl = seen.ttlSeconds ?? ttlSeconds;
    await options.takeOver.sleep(seenTtl * 1000);
    const again = await readLease(doc, tableName);
    if (!again) return acquireLease(doc, tableName, owner, purpose, ttlSeconds, now, { leaseId });
    if (again.leaseId !== seen.leaseId || again.version !== seen.version) throw new LockHeldError(again);
    try {
      await put(
        'leaseId = :seenLease AND #version = :seenVersion',
        { ':seenLease': seen.leaseId ?? '', ':seenVersion': seen.version ?? 0 },
        { '#version': 'version' },
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException)
        throw new LockHeldError(await readLease(doc, tableName));
      throw e;
    }
    return { owner, leaseId, ttlSeconds, purpose };
  }
}

/** Renews the lease (compare-and-set on its token); LeaseLostError when it is no longer ours. */
export async function renewLease(
  doc: DynamoDBDocumentClient,
  tableName: string,
  lease: Lease,
  now: Date,
): Promise<void> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: LOCK_KEY,
        UpdateExpression: 'SET #version = #version + :one, renewedAt = :at, expiresAt = :exp',
        ConditionExpression: 'leaseId = :leaseId',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: {
          ':one': 1,
          ':at': now.toISOString(),
          ':exp': Math.floor(now.getTime() / 1000) + lease.ttlSeconds,
          ':leaseId': lease.leaseId,
        },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new LeaseLostError(lease);
    throw err;
  }
}

/** @deprecated name kept for callers of the old lock: takes a lease with no takeover. */
export async function acquireShiftLock(
  doc: DynamoDBDocumentClient,
  tableName: string,
  owner: string,
  purpose: string,
  ttlSeconds: number,
  now: Date = new Date(),
): Promise<Lease> {
  return acquireLease(doc, tableName, owner, purpose, ttlSeconds, () => now);
}

/**
 * Releases the lease if `owner` (and, when given, that lease id) still holds it; idempotent: a lease
 * already gone or taken over is left alone.
 */
export async function releaseShiftLock(
  doc: DynamoDBDocumentClient,
  tableName: string,
  owner: string,
  leaseId?: string,
): Promise<void> {
  try {
    await doc.send(
      new DeleteCommand({
        TableName: tableName,
        Key: LOCK_KEY,
        ConditionExpression: leaseId ? '#owner = :owner AND leaseId = :leaseId' : '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: leaseId ? { ':owner': owner, ':leaseId': leaseId } : { ':owner': owner },
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}
