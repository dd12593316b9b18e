import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import type { Weights } from './traffic';

/**
 * The traffic-shift audit and lock, kept in the environment's state table (STATE_TABLE_NAME):
 * - audit entries under pk `shift#audit`, sk `<ISO time>#<id>` (newest last);
 * - the lock at pk `shift#lock`, sk `lock`, with an expiry so a crashed holder cannot block forever.
 */
export const AUDIT_PK = 'shift#audit';
export const LOCK_KEY = { pk: 'shift#lock', sk: 'lock' } as const;

export type ShiftKind = 'shift' | 'rollback' | 'auto-rollback' | 'plan-step' | 'plan-abort';
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
}

export async function recordShift(
  doc: DynamoDBDocumentClient,
  tableName: string,
  entry: Omit<ShiftRecord, 'id' | 'at'> & { at?: string },
): Promise<ShiftRecord> {
  const record: ShiftRecord = { ...entry, id: randomUUID(), at: entry.at ?? new Date().toISOString() };
  await doc.send(
    new PutCommand({
      TableName: tableName,
      Item: { pk: AUDIT_PK, sk: `${record.at}#${record.id}`, ...record },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
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
  readonly expiresAt: number;
  readonly purpose: string;
}

export class LockHeldError extends Error {
  constructor(readonly holder: LockHolder | undefined) {
    super(
      holder
        ? `another shift is in progress: locked by ${holder.owner} since ${holder.acquiredAt} for "${holder.purpose}" (expires ${new Date(holder.expiresAt * 1000).toISOString()})`
        : 'another shift is in progress',
    );
    this.name = 'LockHeldError';
  }
}

/** Takes the environment's shift lock, or throws LockHeldError naming the holder. */
export async function acquireShiftLock(
  doc: DynamoDBDocumentClient,
  tableName: string,
  owner: string,
  purpose: string,
  ttlSeconds: number,
  now: Date = new Date(),
): Promise<LockHolder> {
  const nowSec = Math.floor(now.getTime() / 1000);
  const holder: LockHolder = {
    owner,
    purpose,
    acquiredAt: now.toISOString(),
    expiresAt: nowSec + ttlSeconds,
  };
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...LOCK_KEY, ...holder },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR #owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':now': nowSec, ':owner': owner },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return holder;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) {
      const item = err.Item as Record<string, { S?: string; N?: string }> | undefined;
      throw new LockHeldError(
        item
          ? {
              owner: item.owner?.S ?? 'unknown',
              acquiredAt: item.acquiredAt?.S ?? 'unknown',
              expiresAt: Number(item.expiresAt?.N ?? 0),
              purpose: item.purpose?.S ?? 'unknown',
            }
          : undefined,
      );
    }
    throw err;
  }
}

/** Releases the lock if `owner` still holds it; a lock taken over after expiry is left alone. */
export async function releaseShiftLock(
  doc: DynamoDBDocumentClient,
  tableName: string,
  owner: string,
): Promise<void> {
  try {
    await doc.send(
      new DeleteCommand({
        TableName: tableName,
        Key: LOCK_KEY,
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner },
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}
