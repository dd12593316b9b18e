import { z } from 'zod';
import { emailAddress, positiveInt } from '../rules';

/** One subscriber of an alert topic. */
export const subscriptionSchema = z.discriminatedUnion(
  'protocol',
  [
    z.strictObject({ protocol: z.literal('email'), endpoint: emailAddress() }),
    z.strictObject({
      protocol: z.literal('sms'),
      endpoint: z.string().regex(/^\+[1-9]\d{6,14}$/, 'a phone number in E.164 form such as +15555550100'),
    }),
    z.strictObject({
      protocol: z.literal('https'),
      endpoint: z.string().regex(/^https:\/\/[^\s/$.?#].[^\s]*$/, 'an https:// URL'),
    }),
  ],
  { error: () => 'a subscription with protocol email, sms or https and an endpoint' },
);

/** Which way a metric goes when things get worse; decides how warning and critical must be ordered. */
export type WorseWhen = 'higher' | 'lower';

interface ThresholdRule {
  /** Unit for messages, e.g. `%`, `GiB`. */
  readonly unit: string;
  readonly worseWhen: WorseWhen;
  /** A percentage: strictly between 0 and 100 (at either end the alarm could never, or would always, fire). */
  readonly percent?: boolean;
  readonly integer?: boolean;
}

/**
 * Thresholds of one watched metric keyed by severity. Either may be left out (no alarm of that severity),
 * not both. The warning threshold must be crossed before the critical one as the metric gets worse.
 */
export function severityThresholds(rule: ThresholdRule) {
  const expectation = rule.percent
    ? `a percentage between 0 and 100, exclusive`
    : rule.integer
      ? `a positive whole number (${rule.unit.trim()})`
      : `a positive number (${rule.unit.trim()})`;
  let value = z.number({ error: () => expectation });
  if (rule.integer) value = value.int(expectation);
  value = rule.percent ? value.gt(0, expectation).lt(100, expectation) : value.gt(0, expectation);
  return z.strictObject({ warning: value.optional(), critical: value.optional() }).superRefine((t, ctx) => {
    if (t.warning === undefined && t.critical === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'at least one of warning, critical',
        input: t,
      });
      return;
    }
    if (t.warning === undefined || t.critical === undefined) return;
    const ordered = rule.worseWhen === 'higher' ? t.warning < t.critical : t.warning > t.critical;
    if (!ordered) {
      ctx.addIssue({
        code: 'custom',
        path: ['warning'],
        message:
          rule.worseWhen === 'higher'
            ? `a warning threshold below the critical one (${t.critical}${rule.unit}): higher is worse`
            : `a warning threshold above the critical one (${t.critical}${rule.unit}): lower is worse`,
        input: t.warning,
      });
    }
  });
}

export type SeverityThresholdsConfig = z.output<ReturnType<typeof severityThresholds>>;

/** Periods CloudWatch accepts for standard-resolution alarms, in minutes (RDS publishes every minute). */
export const ALARM_PERIOD_MINUTES = [1, 5, 10, 15, 30, 60] as const;

/**
 * Database-health alarms of the environment's RDS instance, thresholds keyed by severity. `connections`
 * has no default: it depends on the instance's `max_connections` (`SHOW max_connections;`).
 */
export const databaseHealthSchema = z
  .strictObject({
    /** Length of one evaluated datapoint, minutes. @default 5 */
    periodMinutes: z
      .number()
      .refine(
        (v) => (ALARM_PERIOD_MINUTES as readonly number[]).includes(v),
        `one of ${ALARM_PERIOD_MINUTES.join(', ')} minutes`,
      )
      .default(5),
    /** Datapoints looked at. @default 3 */
    evaluationPeriods: positiveInt('a positive whole number of periods').default(3),
    /** Breaching datapoints among them that raise the alarm. @default evaluationPeriods */
    datapointsToAlarm: positiveInt('a positive whole number of periods').optional(),
    /** CPUUtilization, percent (average). */
    cpuPercent: severityThresholds({ unit: '%', worseWhen: 'higher', percent: true }).default({
      warning: 80,
      critical: 95,
    }),
    /** FreeStorageSpace as a percentage of the allocated storage (metric math). */
    freeStoragePercent: severityThresholds({ unit: '%', worseWhen: 'lower', percent: true }).default({
      warning: 20,
      critical: 10,
    }),
    /** FreeStorageSpace in GiB: a floor whatever the size (VACUUM and WAL need room). */
    freeStorageGiB: severityThresholds({ unit: ' GiB', worseWhen: 'lower' }).default({ critical: 2 }),
    /** FreeableMemory in MiB. */
    freeableMemoryMiB: severityThresholds({ unit: ' MiB', worseWhen: 'lower' }).default({
      warning: 256,
      critical: 128,
    }),
    /** DatabaseConnections (maximum); set below the instance's max_connections. No default. */
    connections: severityThresholds({ unit: ' connections', worseWhen: 'higher', integer: true }),
    /** ReadLatency in milliseconds (average). */
    readLatencyMs: severityThresholds({ unit: ' ms', worseWhen: 'higher' }).default({
      warning: 20,
      critical: 100,
    }),
    /** WriteLatency in milliseconds (average). */
    writeLatencyMs: severityThresholds({ unit: ' ms', worseWhen: 'higher' }).default({
      warning: 20,
      critical: 100,
    }),
    /**
     * DiskQueueDepth, outstanding I/Os (average). Mail only by default: a saturated volume pages once, through
     * read or write latency.
     */
    diskQueueDepth: severityThresholds({ unit: ' I/Os', worseWhen: 'higher' }).default({ warning: 10 }),
    /**
     * MaximumUsedTransactionIDs: transaction ids since the oldest unfrozen one. PostgreSQL refuses writes near
     * 2^31 (about 2.1 billion) to avoid wraparound; autovacuum freezes at 200 million by default.
     */
    transactionIdsUsed: severityThresholds({ unit: ' transaction ids', worseWhen: 'higher', integer: true })
      .refine(
        (t) => (t.warning ?? 0) < 2_000_000_000 && (t.critical ?? 0) < 2_000_000_000,
        'thresholds below 2,000,000,000 (PostgreSQL stops accepting writes at about 2,146,483,647)',
      )
      .default({ warning: 1_000_000_000, critical: 1_500_000_000 }),
    /** TransactionLogsDiskUsage (WAL on disk) in GiB: a cause of storage running out, so mail by default. */
    transactionLogsGiB: severityThresholds({ unit: ' GiB', worseWhen: 'higher' }).default({ warning: 10 }),
    /** OldestReplicationSlotLag (WAL an unconsumed replication slot retains) in GiB; mail by default. */
    replicationSlotLagGiB: severityThresholds({ unit: ' GiB', worseWhen: 'higher' }).default({ warning: 5 }),
  })
  .superRefine((d, ctx) => {
    if (d.datapointsToAlarm !== undefined && d.datapointsToAlarm > d.evaluationPeriods) {
      ctx.addIssue({
        code: 'custom',
        path: ['datapointsToAlarm'],
        message: `at most evaluationPeriods (${d.evaluationPeriods})`,
        input: d.datapointsToAlarm,
      });
    }
    if (d.periodMinutes * d.evaluationPeriods > 1440) {
      ctx.addIssue({
        code: 'custom',
        path: ['evaluationPeriods'],
        message: `periodMinutes x evaluationPeriods of at most 1440 minutes (one day, the CloudWatch limit); period is ${d.periodMinutes} minutes`,
        input: d.evaluationPeriods,
      });
    }
  });

export type DatabaseHealthConfig = z.output<typeof databaseHealthSchema>;

/**
 * Health of the blue and green services and their load balancer (with routing), thresholds keyed by severity.
 * Running tasks are the target groups' healthy hosts against each color's desiredCount (no Container Insights).
 */
export const serviceHealthSchema = z.strictObject({
  /** Length of one evaluated datapoint, minutes. @default 1 */
  periodMinutes: z
    .number()
    .refine(
      (v) => (ALARM_PERIOD_MINUTES as readonly number[]).includes(v),
      `one of ${ALARM_PERIOD_MINUTES.join(', ')} minutes`,
    )
    .default(1),
  /** Consecutive breaching datapoints that raise an alarm. @default 5 */
  evaluationPeriods: positiveInt('a positive whole number of periods').default(5),
  /** ECS CPUUtilization of each color's service, percent of its reservation (average). */
  taskCpuPercent: severityThresholds({ unit: '%', worseWhen: 'higher', percent: true }).default({
    warning: 80,
  }),
  /** ECS MemoryUtilization of each color's service, percent (average). */
  taskMemoryPercent: severityThresholds({ unit: '%', worseWhen: 'higher', percent: true }).default({
    warning: 85,
  }),
  /** 5xx the load balancer itself answers (no healthy target, timeouts), percent of its requests. */
  loadBalancer5xxPercent: severityThresholds({ unit: '%', worseWhen: 'higher', percent: true }).default({
    warning: 1,
  }),
  /** RejectedConnectionCount per period (the load balancer reached its connection limit). */
  rejectedConnections: severityThresholds({
    unit: ' connections',
    worseWhen: 'higher',
    integer: true,
  }).default({
    warning: 1,
  }),
  /** DaysToExpiry of the listener's ACM certificate (imported certificates do not renew themselves). */
  certificateDaysToExpiry: severityThresholds({ unit: ' days', worseWhen: 'lower', integer: true }).default({
    warning: 30,
    critical: 7,
  }),
});

/** Health of the guardrails' own functions and of the paging path. */
export const functionHealthSchema = z.strictObject({
  /** Maximum Duration above this share of the function's timeout warns (it is about to time out). @default 80 */
  durationPercentOfTimeout: z
    .number({ error: () => 'a percentage between 0 and 100, exclusive' })
    .gt(0, 'a percentage between 0 and 100, exclusive')
    .lt(100, 'a percentage between 0 and 100, exclusive')
    .default(80),
});

export const alertingSchema = z.strictObject({
  /** Subscribers paged for critical alarms (a paging service's HTTPS endpoint, SMS, e-mail). */
  criticalSubscriptions: z.array(subscriptionSchema).default([]),
  /** Subscribers mailed for warnings. */
  warningSubscriptions: z.array(subscriptionSchema).default([]),
  /** Base URL of docs/RUNBOOK.md as the on-call person opens it; alarm descriptions link to its sections. */
  runbookUrl: z.string().regex(/^https:\/\/\S+$/, 'an https:// URL of docs/RUNBOOK.md'),
  /** Database-health alarm thresholds (see DatabaseHealth). */
  databaseHealth: databaseHealthSchema,
  /** Service and load balancer alarm thresholds (see ServiceHealthAlarms); used when routing is enabled. */
  serviceHealth: serviceHealthSchema.prefault({}),
  /** The guardrails' own functions (see PlatformHealthAlarms). */
  functionHealth: functionHealthSchema.prefault({}),
});

export type ServiceHealthConfig = z.output<typeof serviceHealthSchema>;
export type FunctionHealthConfig = z.output<typeof functionHealthSchema>;
