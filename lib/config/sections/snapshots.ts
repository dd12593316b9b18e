import { z } from 'zod';
import { kmsKeyArn, regionName } from '../rules';
import { customCheckSchema } from './checks';

/**
 * RDS snapshot automation: a schedule, retention tiers, the manual-snapshot quota, an optional copy to a
 * second region, and the thresholds of the verification alarms. See README "Snapshots".
 */

const intIn = (min: number, max: number, what: string) =>
  z
    .number()
    .int(`an integer ${what} from ${min} to ${max}`)
    .min(min, `${what} from ${min} to ${max}`)
    .max(max, `${what} from ${min} to ${max}`);

/** How many snapshots to keep. A snapshot kept by any rule is kept. */
export const retentionSchema = z.strictObject({
  /** Keep the newest snapshot of each of the last N UTC days that have one. @default 7 */
  daily: intIn(0, 366, 'days').default(7),
  /** Keep the newest snapshot of each of the last M ISO weeks that have one. @default 4 */
  weekly: intIn(0, 260, 'weeks').default(4),
  /** Keep the newest snapshot of each of the last K calendar months that have one. @default 6 */
  monthly: intIn(0, 120, 'months').default(6),
  /** Always keep at least this many of the newest available snapshots. @default 3 */
  minimum: intIn(1, 100, 'snapshots').default(3),
  /** Keep pre-shift snapshots for at least this many days. @default 14 */
  preShiftDays: intIn(0, 366, 'days').default(14),
  /** At most this many deletions per run (a bug or a clock jump cannot empty the region at once). @default 20 */
  maxDeletionsPerRun: intIn(1, 100, 'deletions').default(20),
});

export const snapshotCopySchema = z
  .strictObject({
    /** Second region the snapshots are copied to; must differ from the environment's region. */
    region: regionName(),
    /** Customer-managed KMS key in `region` (same account) that encrypts the copies. */
    kmsKeyArn: kmsKeyArn(),
    /** Retention of the copies. @default the source retention */
    retention: retentionSchema.optional(),
  })
  .superRefine((c, ctx) => {
    const keyRegion = c.kmsKeyArn.split(':')[3];
    if (keyRegion !== c.region) {
      ctx.addIssue({
        code: 'custom',
        path: ['kmsKeyArn'],
        message: `a KMS key in the copy region ${c.region} (a key cannot encrypt in another region)`,
        input: c.kmsKeyArn,
      });
    }
  });

/** RDS instance classes (`db.t4g.medium`, `db.r6g.large`, ...). */
const INSTANCE_CLASS = /^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$/;

/**
 * The restore drill: on a schedule (and on demand) restore a snapshot of the tool into an isolated, small,
 * short-lived instance, verify it with the checker and delete it. See README "Restore drill".
 */
export const drillSchema = z
  .strictObject({
    /**
     * EventBridge Scheduler expression (UTC) of the scheduled drill, e.g. `cron(0 5 ? * SUN *)`.
     * @default none: on demand only (`npm run snapshot -- --drill`)
     */
    schedule: z
      .string()
      .refine(
        (s) => parseSchedule(s).ok,
        'rate(<n> minutes|hours|days) or cron(<min> <hour> <day-of-month> <month> <day-of-week> <year>), e.g. cron(0 5 ? * SUN *)',
      )
      .optional(),
    /** Class of the restored copy: small, it only has to answer the checker. @default db.t4g.medium */
    instanceClass: z
      .string()
      .regex(INSTANCE_CLASS, 'an RDS instance class such as db.t4g.medium')
      .default('db.t4g.medium'),
    /** Longest wait for the restored copy to become available; past it the drill fails and deletes it. @default 240 */
    timeoutMinutes: intIn(30, 1440, 'minutes').default(240),
    /** Warn when no drill succeeded for this many days. */
    maxDaysWithoutSuccess: intIn(1, 400, 'days'),
    /** Recovery-time objective: warn when a restore (request to available) takes longer. @default 60 */
    recoveryTimeObjectiveMinutes: intIn(5, 1440, 'minutes').default(60),
    /** An extra query the restored copy must answer within bounds (same shape as a custom check). */
    sentinel: customCheckSchema.optional(),
  })
  .superRefine((d, ctx) => {
    if (d.recoveryTimeObjectiveMinutes >= d.timeoutMinutes) {
      ctx.addIssue({
        code: 'custom',
        path: ['recoveryTimeObjectiveMinutes'],
        message: `less than timeoutMinutes (${d.timeoutMinutes}): a restore slower than the objective must still finish, so its time is measured`,
        input: d.recoveryTimeObjectiveMinutes,
      });
    }
    const parsed = d.schedule ? parseSchedule(d.schedule) : undefined;
    if (parsed?.ok && parsed.intervalMinutes !== undefined) {
      if (parsed.intervalMinutes < 1440) {
        ctx.addIssue({
          code: 'custom',
          path: ['schedule'],
          message: `at most one drill a day (this fires every ${parsed.intervalMinutes} minutes; each drill runs an instance for hours)`,
          input: d.schedule,
        });
      } else if (parsed.intervalMinutes > d.maxDaysWithoutSuccess * 1440) {
        ctx.addIssue({
          code: 'custom',
          path: ['maxDaysWithoutSuccess'],
          message: `at least the schedule's interval (${parsed.intervalMinutes / 1440} days), or the warning fires between two good drills`,
          input: d.maxDaysWithoutSuccess,
        });
      }
    }
  });

export type DrillConfig = z.output<typeof drillSchema>;

export const snapshotsSchema = z
  .strictObject({
    /** Take, prune and verify snapshots in this environment. @default true */
    enabled: z.boolean().default(true),
    /**
     * EventBridge Scheduler expression (UTC): `rate(6 hours)`, `rate(1 day)`, `cron(0 3 * * ? *)`.
     * At most one snapshot an hour. @default rate(1 day)
     */
    schedule: z
      .string()
      .refine(
        (s) => parseSchedule(s).ok,
        'rate(<n> minutes|hours|days) or cron(<min> <hour> <day-of-month> <month> <day-of-week> <year>), e.g. rate(6 hours)',
      )
      .default('rate(1 day)'),
    /**
     * Longest gap between two scheduled snapshots, in minutes. Derived from rate() and from cron() that
     * fires every day; required for a cron() restricted to some days or months.
     */
    maxIntervalMinutes: intIn(60, 44_640, 'minutes').optional(),
    /** Slack after the interval before the "newest snapshot too old" alarm fires. @default 60 */
    graceMinutes: intIn(5, 1440, 'minutes').default(60),
    retention: retentionSchema.prefault({}),
    quota: z
      .strictObject({
        /** Manual DB snapshots allowed per region (raise it when AWS raised yours). @default 100 */
        limit: intIn(1, 10_000, 'snapshots').default(100),
        /** Alarm when the region's manual snapshot count reaches this share of the limit. @default 80 */
        alarmPercent: intIn(1, 100, 'percent').default(80),
      })
      .prefault({}),
    /** Copy every new snapshot to a second region. @default no copy */
    copy: snapshotCopySchema.optional(),
    /** How long `npm run snapshot` and the shift wait for a snapshot to become available. @default 60 */
    waitTimeoutMinutes: intIn(1, 1440, 'minutes').default(60),
    /** Restore drills. @default none (no drill state machine) */
    drill: drillSchema.optional(),
  })
  .superRefine((v, ctx) => {
    const parsed = parseSchedule(v.schedule);
    if (!parsed.ok) return;
    if (parsed.intervalMinutes === undefined && v.maxIntervalMinutes === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxIntervalMinutes'],
        message: `a value (the longest gap in minutes) because ${v.schedule} does not fire every day`,
        input: v.maxIntervalMinutes,
      });
    }
    if (parsed.intervalMinutes !== undefined && parsed.intervalMinutes < 60) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedule'],
        message: `at most one snapshot an hour (this fires every ${parsed.intervalMinutes} minutes)`,
        input: v.schedule,
      });
    }
    const threshold = Math.floor((v.quota.limit * v.quota.alarmPercent) / 100);
    const retentions: [(string | number)[], RetentionConfig][] = [[['retention'], v.retention]];
    if (v.copy?.retention) retentions.push([['copy', 'retention'], v.copy.retention]);
    for (const [path, r] of retentions) {
      const worstCase = r.daily + r.weekly + r.monthly + r.minimum;
      if (worstCase >= threshold) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `daily + weekly + monthly + minimum below the quota alarm threshold (${threshold} = ${v.quota.alarmPercent}% of ${v.quota.limit}); got ${worstCase}, so retention alone would fill the quota`,
          input: r,
        });
      }
    }
  });

export type SnapshotsConfig = z.output<typeof snapshotsSchema>;
export type RetentionConfig = z.output<typeof retentionSchema>;

/**
 * Rules that compare the section with the environment (region, account). Called from the top-level
 * schema's superRefine, with fields that are valid on their own.
 */
export function snapshotsEnvironmentIssues(
  c: {
    readonly envName: string;
    readonly account: string;
    readonly region: string;
    readonly snapshots: SnapshotsConfig;
  },
  issue: (path: (string | number)[], message: string, input: unknown) => void,
): void {
  const copy = c.snapshots.copy;
  if (!copy) return;
  if (copy.region === c.region) {
    issue(
      ['snapshots', 'copy', 'region'],
      `a region other than the environment's own (${c.region}): a copy in the same region survives no regional outage`,
      copy.region,
    );
  }
}

export type ParsedSchedule =
  | { readonly ok: true; readonly kind: 'rate' | 'cron'; readonly intervalMinutes?: number }
  | { readonly ok: false };

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_MINUTES = { minute: 1, hour: 60, day: 1440 } as const;

/**
 * Parses an EventBridge Scheduler rate() or cron() expression. `intervalMinutes` is the longest gap
 * between two runs when it can be derived (rate, or a cron that fires every day), else undefined.
 */
export function parseSchedule(expression: string): ParsedSchedule {
  const rate = RATE.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2] as string;
    const singular = !unit.endsWith('s');
    if (n < 1 || (n === 1) !== singular) return { ok: false };
    const base = unit.replace(/s$/, '') as keyof typeof UNIT_MINUTES;
    return { ok: true, kind: 'rate', intervalMinutes: n * UNIT_MINUTES[base] };
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (!cron) return { ok: false };
  const fields = (cron[1] as string).trim().split(/\s+/);
  if (fields.length !== 6) return { ok: false };
  const [minute, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  // EventBridge: exactly one of day-of-month and day-of-week is '?'.
  if ((dom === '?') === (dow === '?')) return { ok: false };
  if (![dom, month, dow, year].every((f) => /^[0-9A-Za-z*?,/#LW-]+$/.test(f))) return { ok: false };
  const minutes = cronField(minute, 0, 59);
  const hours = cronField(hour, 0, 23);
  if (!minutes || !hours) return { ok: false };
  const everyDay =
    (dom === '*' || dom === '?') && (dow === '*' || dow === '?') && month === '*' && year === '*';
  if (!everyDay) return { ok: true, kind: 'cron' };
  const times = hours.flatMap((h) => minutes.map((m) => h * 60 + m)).sort((a, b) => a - b);
  let gap = 0;
  times.forEach((t, i) => {
    const next = i + 1 < times.length ? (times[i + 1] as number) : (times[0] as number) + 1440;
    gap = Math.max(gap, next - t);
  });
  return { ok: true, kind: 'cron', intervalMinutes: gap };
}

/** Values of a numeric cron field (`*`, `5`, `1,2`, `1-5`, `*\/15`, `10-50/20`); undefined when invalid. */
function cronField(field: string, min: number, max: number): number[] | undefined {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
    if (!m) return undefined;
    const start = m[1] === '*' ? min : Number(m[1]);
    const end = m[2] !== undefined ? Number(m[2]) : m[1] === '*' || m[3] !== undefined ? max : start;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (start < min || end > max || start > end || step < 1) return undefined;
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return [...values];
}

/** The longest gap between scheduled snapshots: the explicit value, else derived from the schedule. */
export function snapshotIntervalMinutes(s: SnapshotsConfig): number {
  if (s.maxIntervalMinutes !== undefined) return s.maxIntervalMinutes;
  const parsed = parseSchedule(s.schedule);
  if (parsed.ok && parsed.intervalMinutes !== undefined) return parsed.intervalMinutes;
  throw new Error(`snapshots.schedule ${s.schedule}: no interval (set snapshots.maxIntervalMinutes)`);
}
