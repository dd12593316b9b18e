import type { DBSnapshot } from '@aws-sdk/client-rds';
import { RDSServiceException } from '@aws-sdk/client-rds';
import type { Clock } from '../../../lambda/snapshots/retry';
import type { Logger } from '../../../lambda/shared/logger';

/** A clock whose sleep advances time at once, recording every wait. */
export function fakeClock(start = Date.UTC(2026, 10, 26, 1, 30, 0)): Clock & { sleeps: number[] } {
  let t = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

/** A DBSnapshot as DescribeDBSnapshots returns it. */
export function dbSnapshot(
  id: string,
  created: string | undefined,
  opts: { status?: string; tags?: Record<string, string>; region?: string } = {},
): DBSnapshot {
  return {
    DBSnapshotIdentifier: id,
    DBSnapshotArn: `arn:aws:rds:${opts.region ?? 'us-east-1'}:333333333333:snapshot:${id}`,
    DBInstanceIdentifier: 'nba-analytics-prod',
    SnapshotType: 'manual',
    Status: opts.status ?? 'available',
    SnapshotCreateTime: created ? new Date(created) : undefined,
    TagList: Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
  };
}

export function ours(
  id: string,
  created: string,
  opts: { status?: string; reason?: string; region?: string } = {},
) {
  const reason = opts.reason ?? 'scheduled';
  return dbSnapshot(`pipeline-guardrails-prod-${reason}-${id}`, created, {
    ...opts,
    tags: { 'managed-by': 'pipeline-guardrails', environment: 'prod', reason },
  });
}

export function awsError(name: string, message = name, status = 400): RDSServiceException {
  return new RDSServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: status } });
}

/** A logger that keeps its entries for assertions. */
export function memoryLogger(): Logger & {
  entries: { level: string; message: string; fields: Record<string, unknown> }[];
} {
  const entries: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const log = (level: string, message: string, fields: Record<string, unknown> = {}) =>
    entries.push({ level, message, fields });
  return {
    entries,
    log: (level, m, f) => log(level, m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}
