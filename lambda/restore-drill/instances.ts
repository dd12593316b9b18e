import { DescribeDBInstancesCommand, type DBInstance, type RDSClient } from '@aws-sdk/client-rds';
import { withRetry, type RetryOptions } from '../snapshots/retry';
import { drillInstancePrefix, isDrillInstance } from './names';

/** What the drill and the upkeep need to know of one drill instance. */
export interface DrillInstance {
  readonly id: string;
  readonly status: string;
  /** The earlier of RDS's creation time and the drill start time in the identifier. */
  readonly startedAt?: Date;
}

export function tagsOf(i: DBInstance): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const t of i.TagList ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  return tags;
}

/** The start time a drill identifier carries (`...-drill-20261201t050000z`), if it parses. */
export function drillStartOf(id: string, envName: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})t(\d{2})(\d{2})(\d{2})z$/.exec(
    id.slice(drillInstancePrefix(envName).length),
  );
  if (!m) return undefined;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Every drill instance of this environment (all pages): prefixed AND tagged as a drill. */
export async function listDrillInstances(
  rds: RDSClient,
  envName: string,
  retry?: RetryOptions,
): Promise<DrillInstance[]> {
  const out: DrillInstance[] = [];
  let Marker: string | undefined;
  do {
    const page = await withRetry(
      () => rds.send(new DescribeDBInstancesCommand({ MaxRecords: 100, Marker })),
      retry,
    );
    for (const i of page.DBInstances ?? []) {
      const id = i.DBInstanceIdentifier ?? '';
      if (!isDrillInstance({ id, tags: tagsOf(i) }, envName)) continue;
      const times = [i.InstanceCreateTime, drillStartOf(id, envName)].filter(
        (d): d is Date => d !== undefined,
      );
      out.push({
        id,
        status: i.DBInstanceStatus ?? 'unknown',
        startedAt: times.length > 0 ? new Date(Math.min(...times.map((t) => t.getTime()))) : undefined,
      });
    }
    Marker = page.Marker;
  } while (Marker);
  return out;
}
