import { DescribeDBSnapshotsCommand, type DBSnapshot, type RDSClient } from '@aws-sdk/client-rds';
import { withRetry, type RetryOptions } from './retry';

/** What the tool needs to know of one manual DB snapshot. */
export interface SnapshotInfo {
  readonly id: string;
  readonly arn?: string;
  /** RDS status: creating, available, copying, failed, deleting, ... */
  readonly status: string;
  /** Creation time of the data (for copies: of the original). Undefined while RDS has not set it. */
  readonly createdAt?: Date;
  readonly instanceIdentifier?: string;
  readonly percentProgress?: number;
  readonly tags: Readonly<Record<string, string>>;
}

export function toSnapshotInfo(s: DBSnapshot): SnapshotInfo {
  const tags: Record<string, string> = {};
  for (const t of s.TagList ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  return {
    id: s.DBSnapshotIdentifier ?? '',
    arn: s.DBSnapshotArn,
    status: s.Status ?? 'unknown',
    createdAt: s.OriginalSnapshotCreateTime ?? s.SnapshotCreateTime,
    instanceIdentifier: s.DBInstanceIdentifier,
    percentProgress: s.PercentProgress,
    tags,
  };
}

/**
 * Every manual DB snapshot of the client's region (all pages). The manual-snapshot quota counts all of
 * them, whoever made them; the retention picks the tool's own out of this list.
 */
export async function listManualSnapshots(rds: RDSClient, retry?: RetryOptions): Promise<SnapshotInfo[]> {
  const out: SnapshotInfo[] = [];
  let Marker: string | undefined;
  do {
    const page = await withRetry(
      () => rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual', MaxRecords: 100, Marker })),
      retry,
    );
    for (const s of page.DBSnapshots ?? []) out.push(toSnapshotInfo(s));
    Marker = page.Marker;
  } while (Marker);
  return out;
}

/** One snapshot by identifier, or undefined when RDS does not know it (any more). */
export async function describeSnapshot(
  rds: RDSClient,
  id: string,
  retry?: RetryOptions,
): Promise<SnapshotInfo | undefined> {
  try {
    const out = await withRetry(
      () => rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id })),
      retry,
    );
    const s = out.DBSnapshots?.[0];
    return s ? toSnapshotInfo(s) : undefined;
  } catch (err) {
    if (err instanceof Error && err.name === 'DBSnapshotNotFoundFault') return undefined;
    throw err;
  }
}
