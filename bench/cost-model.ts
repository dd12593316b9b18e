/**
 * The guardrails' monthly cost of one environment, computed from its synthesized templates at us-east-1 list
 * prices (no free tier: the free allowances are per account and other workloads may use them).
 *
 * What is counted, and how (every count comes from the templates; what a template cannot say is an ASSUMPTION,
 * listed in USAGE and printed with the line):
 * - alarms: per metric they query (metric math counts its metrics, not its expressions), a period under 60 s
 *   at the high-resolution price; composite alarms; dashboards;
 * - custom metric series: each publishing function's series, taken from its own pure metric-data builder for
 *   a healthy run (so the count is what the code publishes, not what someone remembers), priced per series
 *   for the hours in which it receives data (CloudWatch prorates custom metrics by the hour): a series
 *   published every 15 minutes costs the full $0.30, one published once a week about $0.002;
 * - every Lambda function: invocations from the EventBridge Scheduler schedules that target it (or, for
 *   event-driven ones, an assumed count), memory from the template, assumed duration; requests, X-Ray traces
 *   (tracing from the template), log ingestion and storage (retention from the template), PutMetricData
 *   calls, state-table requests and Secrets Manager reads per run;
 * - Step Functions state transitions, EventBridge Scheduler invocations, KMS keys and their requests,
 *   Secrets Manager secrets, the DynamoDB state table, SQS redrive queues, SNS deliveries, budgets, the cost
 *   anomaly monitor, Container Insights, VPC flow logs, the restore drill's temporary instance;
 * - shown but not in the target (the issue excludes them with the load balancer, Fargate, RDS and NAT): the
 *   web ACL in front of the load balancer and its logs, the load balancer's access-log bucket, the tasks' log
 *   groups, a created database's log groups, NAT gateways and their addresses.
 */
import type { EnvironmentConfig } from '../lib/config';
import { CREDENTIALS_TTL_MS } from '../lambda/data-checks/handler';
import { metricData } from '../lambda/data-checks/metrics';
import type { RunReport } from '../lambda/data-checks/results';
import { parityMetricData } from '../lambda/parity/metrics';
import type { ParityResult } from '../lambda/parity/result';
import { drillMetrics, type DrillState } from '../lambda/restore-drill/tasks';
import { drillUpkeepMetrics, maintenanceMetrics, type RegionReport } from '../lambda/snapshots/maintain';
import { GREEN_WEIGHT_METRIC, METRIC_NAMESPACE } from '../lib/project';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export const TARGET_USD_PER_MONTH = 25;
export const HOURS_PER_MONTH = 730;
const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;
const GIB = 1024 ** 3;

/** us-east-1 list prices, USD. */
export const PRICES = {
  alarmStandardPerMetric: 0.1,
  alarmHighResolutionPerMetric: 0.3,
  compositeAlarm: 0.5,
  /** Per series and month, prorated by the hour in which it receives data (first 10,000 series). */
  customMetric: 0.3,
  dashboard: 3.0,
  putMetricDataPer1000: 0.01,
  kmsKey: 1.0,
  kmsRequestsPer10000: 0.03,
  secret: 0.4,
  secretApiCallsPer10000: 0.05,
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequestPerMillion: 0.2,
  xrayTracePerMillion: 5.0,
  logsIngestPerGb: 0.5,
  logsStoragePerGbMonth: 0.03,
  dynamoWritePerMillion: 0.625,
  dynamoReadPerMillion: 0.125,
  schedulerPerMillion: 1.0,
  stepFunctionsPer1000Transitions: 0.025,
  sqsPerMillion: 0.4,
  snsHttpsPerMillion: 0.6,
  snsEmailPer100000: 2.0,
  /** Budgets without actions cost nothing (the price list's "Budget Notifications" budget-days are $0.00). */
  budget: 0,
  /** Cost Anomaly Detection monitors and subscriptions are free. */
  anomalyMonitor: 0,
  /** Container Insights on a cluster with two services: its ~40 metrics and performance log events (estimate). */
  containerInsights: 15.0,
  /** Web ACL, per rule (a managed rule group counts as one), per million requests. */
  wafWebAcl: 5.0,
  wafRule: 1.0,
  natGatewayHour: 0.045,
  publicIpv4Hour: 0.005,
  /** db.t4g.medium single-AZ PostgreSQL, and gp3 storage per GiB-month (the restore drill's copy). */
  drillInstanceHour: 0.065,
  rdsStorageGbMonth: 0.115,
} as const;

/** What a template cannot say: per-run usage of each function and of the event-driven parts. ASSUMED. */
export const USAGE = {
  /** Per run of a scheduled function: seconds, log bytes, state-table writes/reads, secret reads, PutMetricData calls. */
  runs: {
    // The checker's sweep takes 43 ms wall at SCALE=1 (npm run bench -- data-checks); 2 s covers the secret,
    // the state table, PutMetricData and an occasional cold start.
    'data-checks': { seconds: 2, logBytes: 4096, writes: 8, reads: 8, secretReads: 1, puts: 1 },
    // A pair with about 400,000 rows compares in seconds (npm run bench -- parity); 30 s is generous.
    parity: { seconds: 30, logBytes: 4096, writes: 2, reads: 2, secretReads: 1, puts: 1 },
    snapshots: { seconds: 5, logBytes: 2048, writes: 0, reads: 1, secretReads: 0, puts: 1 },
  },
  /** Event-driven functions, invocations a month: two rollouts of a dozen steps, a few alarms, ten deploys. */
  eventInvocations: { seconds: 2, perMonth: 200, logBytes: 4096 },
  /** Restore drill per run: state transitions, task invocations, the copy's billed hours (README: 1-1.5 h). */
  drill: { transitions: 150, taskInvocations: 40, verifierSeconds: 120, instanceHours: 1.5 },
  /** Hours a month in which green's weight changes (a rollout of four steps, rollbacks, a rehearsal). */
  weightChangeHours: 24,
  /** Rollouts a month and state transitions each. */
  rollout: { perMonth: 2, transitions: 80 },
  /** KMS requests a month (data keys are cached by DynamoDB, SNS and CloudWatch Logs for minutes). */
  kmsRequests: 30_000,
  /** Alerts a month delivered per subscription. */
  alertsPerMonth: 100,
  /** VPC flow logs of a created VPC, GiB a month (a sandbox with two small tasks). */
  flowLogGib: 0.5,
  /** Requests a month through the web ACL (millions), and the access logs kept (GiB). */
  webRequestsMillions: 1,
} as const;

export type CostGroup = 'guardrails' | 'excluded';

export interface CostLine {
  readonly group: CostGroup;
  readonly item: string;
  /** How the figure is computed, counts included. */
  readonly how: string;
  readonly usd: number;
}

export interface CostReport {
  readonly lines: readonly CostLine[];
  /** Sum of the guardrails lines: the figure the target bounds. */
  readonly total: number;
  readonly excluded: number;
}

interface Resource {
  readonly id: string;
  readonly type: string;
  readonly props: Json;
}

function resources(templates: readonly Json[]): Resource[] {
  return templates.flatMap((t) =>
    Object.entries(t.Resources ?? {}).map(([id, r]: [string, Json]) => ({
      id,
      type: r.Type,
      props: r.Properties ?? {},
    })),
  );
}

/** A template string as text; references become `{LogicalId}`. */
export function templateText(value: Json): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value && Array.isArray(value['Fn::Join'])) {
    const [sep, parts] = value['Fn::Join'] as [string, Json[]];
    return parts.map(templateText).join(sep);
  }
  if (value && typeof value.Ref === 'string') return `{${value.Ref}}`;
  if (value && Array.isArray(value['Fn::GetAtt'])) return `{${value['Fn::GetAtt'][0]}}`;
  return '{token}';
}

/** Minutes between runs of a schedule expression: rate(...), or the cron forms this app uses. */
export function intervalMinutes(expression: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    return rate[2]!.startsWith('minute') ? n : rate[2]!.startsWith('hour') ? n * 60 : n * 1440;
  }
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(expression);
  if (cron) {
    const [, , hours, dayOfMonth, , dayOfWeek] = cron;
    if (dayOfWeek !== '?' && dayOfWeek !== '*') return (7 * 1440) / dayOfWeek!.split(',').length;
    if (dayOfMonth !== '?' && dayOfMonth !== '*') return (30.4 * 1440) / dayOfMonth!.split(',').length;
    if (hours !== '*') return 1440 / hours!.split(',').length;
    return 60;
  }
  throw new Error(`cost model: schedule expression ${expression} is not understood`);
}

/** Hours a month in which a series published every `minutes` receives data. */
export function hoursWithData(minutes: number): number {
  return minutes <= 60 ? HOURS_PER_MONTH : MINUTES_PER_MONTH / minutes;
}

/** One series as `MetricName Dim=Value,...` (the identity CloudWatch bills). */
function seriesKey(name: string, dims: readonly { Name?: string; Value?: string }[] | undefined): string {
  return `${name} ${(dims ?? []).map((d) => `${d.Name}=${d.Value}`).join(',')}`;
}

export interface Publisher {
  readonly name: string;
  readonly series: readonly string[];
  readonly hoursPerMonth: number;
}

/** The series one healthy checker run publishes: a complete run of the configured checks, all passing. */
export function checkerSeries(config: EnvironmentConfig): string[] {
  const now = new Date(0).toISOString();
  const report: RunReport = {
    status: 'ok',
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
    databaseMs: 0,
    results: [],
    tables: config.checks.tables.map((t) => ({
      key: `${t.schemaName}.${t.table}`,
      rowCount: 1,
      rowCountExact: true,
      rowsLost: t.noDecrease || t.appendOnly ? 0 : undefined,
      unverified: t.noDecrease || t.appendOnly ? 0 : undefined,
      schemaChanged: t.trackSchema ? 0 : undefined,
      method: 'counters',
      failed: false,
    })),
    freshness: config.checks.freshness.map((f) => ({
      key: `${f.schemaName}.${f.table}`,
      column: f.column,
      ageSeconds: 1,
      failed: false,
    })),
    custom: config.checks.custom.map((c) => ({ name: c.name, value: 0, failed: false })),
    exactCounts: [],
    failures: [],
  };
  return [...new Set(metricData(config.envName, report).map((d) => seriesKey(d.MetricName!, d.Dimensions)))];
}

/** The series one comparison of a pair publishes when the two sides match. */
export function paritySeries(envName: string, pair: string): string[] {
  const t = new Date(0).toISOString();
  const none = { blue: 0, green: 0 };
  const result: ParityResult = {
    status: 'ok' as ParityResult['status'],
    blue: 'a',
    green: 'b',
    key: ['id'],
    columns: ['id'],
    excluded: [],
    rows: { blue: 1, green: 1 },
    identical: 1,
    onlyInBlue: 0,
    onlyInGreen: 0,
    changed: 0,
    changedByColumn: {},
    duplicateKeys: none,
    nullKeys: none,
    differences: 0,
    comparedShare: 1,
    samples: [],
    algorithm: 'bucket-range',
    bucketsCompared: 1,
    bucketsDiffering: 0,
    keyUniqueByIndex: { blue: true, green: true },
    startedAt: t,
    finishedAt: t,
    durationMs: 1,
    databaseMs: 1,
  };
  return parityMetricData(envName, pair, result).map((d) => seriesKey(d.MetricName!, d.Dimensions));
}

/** The series one healthy snapshot upkeep run publishes (source region, the copy region, the drill upkeep). */
export function snapshotSeries(envName: string, regions: readonly string[], drillUpkeep: boolean): string[] {
  const now = new Date(0);
  const region = (r: string, role: RegionReport['role']): RegionReport => ({
    region: r,
    role,
    manualCount: 1,
    managedCount: 1,
    newest: { id: 's', createdAt: now } as unknown as RegionReport['newest'],
    deleted: [],
    kept: [],
    foreignCount: 0,
  });
  const [source, copy] = regions;
  const data = [
    ...maintenanceMetrics(
      {
        dryRun: false,
        source: region(source!, 'source'),
        copy: copy ? region(copy, 'copy') : undefined,
        copiesStarted: [],
        failures: [],
      },
      envName,
      now,
    ),
    ...(drillUpkeep
      ? drillUpkeepMetrics({ leaked: [], deleted: [], daysSinceSuccess: 1, failures: [] }, envName, now)
      : []),
  ];
  return [...new Set(data.map((d) => seriesKey(d.MetricName!, d.Dimensions)))];
}

/** The series a successful restore drill records. */
export function drillSeries(envName: string): string[] {
  const t = new Date(0).toISOString();
  const state = {
    drill: { startedAt: t, snapshotCreatedAt: t },
    restore: { available: true, elapsedSeconds: 60 },
    verification: { durationMs: 1000, failedCount: 0 },
  } as unknown as DrillState;
  return drillMetrics(state, 'succeeded', envName, new Date(0)).map((d) =>
    seriesKey(d.MetricName!, d.Dimensions),
  );
}

interface FunctionUse {
  readonly id: string;
  readonly role: keyof typeof USAGE.runs | 'event';
  readonly description: string;
  readonly perMonth: number;
  readonly memoryMb: number;
  readonly traced: boolean;
  readonly logRetentionDays: number;
}

/** What each function is, from its description and the schedules that target it. */
function functionUses(all: Resource[]): FunctionUse[] {
  const schedules = all.filter((r) => r.type === 'AWS::Scheduler::Schedule');
  const logGroups = new Map(all.filter((r) => r.type === 'AWS::Logs::LogGroup').map((r) => [r.id, r]));
  return all
    .filter((r) => r.type === 'AWS::Lambda::Function')
    .map((f) => {
      const description = templateText(f.props.Description ?? f.id);
      const runs = schedules
        .filter((s) => templateText(s.props.Target?.Arn) === `{${f.id}}`)
        .reduce((n, s) => n + MINUTES_PER_MONTH / intervalMinutes(String(s.props.ScheduleExpression)), 0);
      const role: FunctionUse['role'] =
        runs === 0
          ? 'event'
          : /data integrity/.test(description)
            ? 'data-checks'
            : /parity/.test(description)
              ? 'parity'
              : /snapshot/i.test(description)
                ? 'snapshots'
                : 'event';
      const logGroupId = /^\{(.+)\}$/.exec(templateText(f.props.LoggingConfig?.LogGroup))?.[1];
      const retention = Number(logGroups.get(logGroupId ?? '')?.props.RetentionInDays ?? 3653);
      return {
        id: f.id,
        role,
        description,
        perMonth: runs === 0 ? USAGE.eventInvocations.perMonth : runs,
        memoryMb: Number(f.props.MemorySize ?? 128),
        traced: f.props.TracingConfig?.Mode === 'Active',
        logRetentionDays: retention,
      };
    });
}

/** Every function that publishes custom metrics: its series (from its own code) and hours with data a month. */
export function customMetricPublishers(config: EnvironmentConfig, templates: readonly Json[]): Publisher[] {
  const all = resources(templates);
  const of = (type: string) => all.filter((r) => r.type === type);
  const functions = functionUses(all);
  const schedules = of('AWS::Scheduler::Schedule');
  const envName = config.envName;
  const publishers: Publisher[] = [];
  const scheduleOf = (fn: FunctionUse | undefined, input?: RegExp) =>
    schedules.filter(
      (s) =>
        fn !== undefined &&
        templateText(s.props.Target?.Arn) === `{${fn.id}}` &&
        (input === undefined || input.test(templateText(s.props.Target?.Input ?? ''))),
    );
  const checker = functions.find((f) => f.role === 'data-checks');
  for (const s of scheduleOf(checker))
    publishers.push({
      name: 'checker',
      series: checkerSeries(config),
      hoursPerMonth: hoursWithData(intervalMinutes(s.props.ScheduleExpression)),
    });
  const parity = functions.find((f) => f.role === 'parity');
  for (const s of scheduleOf(parity)) {
    const pair = JSON.parse(templateText(s.props.Target.Input)).pair.name as string;
    publishers.push({
      name: `parity ${pair}`,
      series: paritySeries(envName, pair),
      hoursPerMonth: hoursWithData(intervalMinutes(s.props.ScheduleExpression)),
    });
  }
  const snapshotFn = functions.find((f) => f.role === 'snapshots');
  if (snapshotFn) {
    const env = all.find((r) => r.id === snapshotFn.id)!.props.Environment?.Variables ?? {};
    const regions = [config.region, ...(env.COPY_REGION ? [String(env.COPY_REGION)] : [])];
    const upkeep = scheduleOf(snapshotFn, /maintain/);
    const minutes = Math.min(...upkeep.map((s) => intervalMinutes(s.props.ScheduleExpression)));
    publishers.push({
      name: 'snapshots',
      series: snapshotSeries(envName, regions, env.DRILL_LIMIT_MINUTES !== undefined),
      hoursPerMonth: hoursWithData(minutes),
    });
  }
  const drillRunsPerMonth = drillRuns(schedules);
  if (drillRunsPerMonth > 0)
    publishers.push({
      name: 'restore drill',
      series: drillSeries(envName),
      hoursPerMonth: drillRunsPerMonth,
    });
  // The weight is published on every change only (lambda/shared/traffic.ts): hours with a change, assumed.
  if (of('Custom::WeightedForwardRule').length > 0)
    publishers.push({
      name: 'weights (on change)',
      series: [seriesKey(GREEN_WEIGHT_METRIC, [{ Name: 'Environment', Value: envName }])],
      hoursPerMonth: USAGE.weightChangeHours,
    });
  return publishers;
}

/** Restore drills a month, from the drill's schedules. */
function drillRuns(schedules: readonly Resource[]): number {
  return schedules
    .filter((s) => /restore-drill/.test(String(s.props.Name)))
    .reduce((n, s) => n + MINUTES_PER_MONTH / intervalMinutes(String(s.props.ScheduleExpression)), 0);
}

/** Logs: ingestion of a month, plus storage of what the retention keeps (at most a year counted). */
function logsUsd(gibPerMonth: number, retentionDays: number): number {
  const storedGib = gibPerMonth * Math.min(12, retentionDays / 30.4);
  return gibPerMonth * PRICES.logsIngestPerGb + storedGib * PRICES.logsStoragePerGbMonth;
}

/** Every cost line of one environment's templates. */
export function costReport(config: EnvironmentConfig, templates: readonly Json[]): CostReport {
  const all = resources(templates);
  const of = (type: string) => all.filter((r) => r.type === type);
  const lines: CostLine[] = [];
  const add = (group: CostGroup, item: string, how: string, usd: number) =>
    lines.push({ group, item, how, usd });

  // --- Alarms and dashboards -------------------------------------------------------------------------------
  let standard = 0;
  let highRes = 0;
  for (const a of of('AWS::CloudWatch::Alarm')) {
    const p = a.props;
    const stats = p.Metrics ? (p.Metrics as Json[]).filter((m) => m.MetricStat) : [p];
    for (const m of stats) {
      const period = Number(m.MetricStat?.Period ?? m.Period ?? 60);
      if (period < 60) highRes++;
      else standard++;
    }
  }
  const alarms = of('AWS::CloudWatch::Alarm').length;
  add(
    'guardrails',
    'CloudWatch alarms, standard resolution',
    `${standard} metrics queried by ${alarms} alarms x $${PRICES.alarmStandardPerMetric}`,
    standard * PRICES.alarmStandardPerMetric,
  );
  add(
    'guardrails',
    'CloudWatch alarms, high resolution (10 s)',
    `${highRes} metrics x $${PRICES.alarmHighResolutionPerMetric}`,
    highRes * PRICES.alarmHighResolutionPerMetric,
  );
  const composites = of('AWS::CloudWatch::CompositeAlarm');
  add(
    'guardrails',
    'Composite alarms',
    `${composites.length} (${composites.map((c) => c.props.AlarmName).join(', ')}) x $${PRICES.compositeAlarm}`,
    composites.length * PRICES.compositeAlarm,
  );
  const dashboards = of('AWS::CloudWatch::Dashboard').length;
  add(
    'guardrails',
    'Dashboards',
    `${dashboards} x $${PRICES.dashboard} (the free tier's 3 dashboards of at most 50 metrics do not fit ours)`,
    dashboards * PRICES.dashboard,
  );

  // --- Custom metrics ----------------------------------------------------------------------------------------
  const functions = functionUses(all);
  const schedules = of('AWS::Scheduler::Schedule');
  const drillRunsPerMonth = drillRuns(schedules);
  const publishers = customMetricPublishers(config, templates);
  for (const p of publishers) {
    const usd = (p.series.length * PRICES.customMetric * p.hoursPerMonth) / HOURS_PER_MONTH;
    add(
      'guardrails',
      `Custom metrics (${METRIC_NAMESPACE}): ${p.name}`,
      `${p.series.length} series x $${PRICES.customMetric} x ${Math.round(p.hoursPerMonth * 10) / 10}/${HOURS_PER_MONTH} hours with data`,
      usd,
    );
  }

  // --- Functions ---------------------------------------------------------------------------------------------
  let secretReads = 0;
  let stateWrites = 0;
  let stateReads = 0;
  for (const f of functions) {
    const use = f.role === 'event' ? { ...USAGE.eventInvocations, puts: 0 } : USAGE.runs[f.role];
    const gbSeconds = f.perMonth * use.seconds * (f.memoryMb / 1024);
    const compute = gbSeconds * PRICES.lambdaArmGbSecond;
    const requests = (f.perMonth / 1e6) * PRICES.lambdaRequestPerMillion;
    const traces = f.traced ? (f.perMonth / 1e6) * PRICES.xrayTracePerMillion : 0;
    const logs = logsUsd((f.perMonth * use.logBytes) / GIB, f.logRetentionDays);
    const puts = ((f.perMonth * use.puts) / 1000) * PRICES.putMetricDataPer1000;
    if (f.role !== 'event') {
      const r = USAGE.runs[f.role];
      // The checker keeps its credentials for CREDENTIALS_TTL_MS per container (at most one read per run).
      secretReads +=
        f.role === 'data-checks'
          ? Math.min(f.perMonth, MINUTES_PER_MONTH / (CREDENTIALS_TTL_MS / 60_000))
          : f.perMonth * r.secretReads;
      stateWrites += f.perMonth * r.writes;
      stateReads += f.perMonth * r.reads;
    }
    add(
      'guardrails',
      `Lambda ${f.role === 'event' ? 'event-driven' : f.role}: ${f.description.slice(0, 60)}`,
      `${Math.round(f.perMonth)} runs${f.role === 'event' ? ' (assumed)' : ' (schedules)'} x ${use.seconds} s (assumed) x ${f.memoryMb} MB; requests, ${f.traced ? 'X-Ray traces, ' : ''}${use.logBytes} B of log a run kept ${f.logRetentionDays} d${use.puts ? ', PutMetricData' : ''}`,
      compute + requests + traces + logs + puts,
    );
  }
  const scheduleRuns = schedules.reduce(
    (n, s) => n + MINUTES_PER_MONTH / intervalMinutes(String(s.props.ScheduleExpression)),
    0,
  );
  add(
    'guardrails',
    'EventBridge Scheduler invocations',
    `${Math.round(scheduleRuns)} a month from ${schedules.length} schedules x $${PRICES.schedulerPerMillion}/million`,
    (scheduleRuns / 1e6) * PRICES.schedulerPerMillion,
  );

  // --- State machines ----------------------------------------------------------------------------------------
  for (const sm of of('AWS::StepFunctions::StateMachine')) {
    const drill = /RestoreDrill/.test(sm.id);
    const transitions = drill
      ? drillRunsPerMonth * USAGE.drill.transitions
      : USAGE.rollout.perMonth * USAGE.rollout.transitions;
    add(
      'guardrails',
      `Step Functions ${drill ? 'restore drill' : 'rollout plan'} (standard)`,
      `${drill ? `${Math.round(drillRunsPerMonth * 100) / 100} drills (schedule) x ${USAGE.drill.transitions}` : `${USAGE.rollout.perMonth} rollouts x ${USAGE.rollout.transitions}`} transitions (assumed) x $${PRICES.stepFunctionsPer1000Transitions}/1000`,
      (transitions / 1000) * PRICES.stepFunctionsPer1000Transitions,
    );
  }
  if (drillRunsPerMonth > 0) {
    const storage = config.database.allocatedStorageGiB;
    const hours = drillRunsPerMonth * USAGE.drill.instanceHours;
    add(
      'guardrails',
      'Restore drill: the temporary copy',
      `${Math.round(hours * 10) / 10} h a month (assumed ${USAGE.drill.instanceHours} h a drill) x ($${PRICES.drillInstanceHour} instance + ${storage} GiB x $${PRICES.rdsStorageGbMonth}/730)`,
      hours * (PRICES.drillInstanceHour + (storage * PRICES.rdsStorageGbMonth) / HOURS_PER_MONTH),
    );
  }

  // --- Keys, secrets, state, queues, topics ----------------------------------------------------------------
  const keys = of('AWS::KMS::Key');
  add(
    'guardrails',
    'KMS customer-managed keys',
    `${keys.length} x $${PRICES.kmsKey} + ${USAGE.kmsRequests} requests (assumed) x $${PRICES.kmsRequestsPer10000}/10,000`,
    keys.length * PRICES.kmsKey + (USAGE.kmsRequests / 10_000) * PRICES.kmsRequestsPer10000,
  );
  const secrets = of('AWS::SecretsManager::Secret');
  add(
    'guardrails',
    'Secrets Manager',
    `${secrets.length} secrets x $${PRICES.secret} + ${Math.round(secretReads)} reads by the scheduled functions (the checker's at most every ${CREDENTIALS_TTL_MS / 60_000} min) x $${PRICES.secretApiCallsPer10000}/10,000`,
    secrets.length * PRICES.secret + (secretReads / 10_000) * PRICES.secretApiCallsPer10000,
  );
  const tables = of('AWS::DynamoDB::Table');
  add(
    'guardrails',
    'DynamoDB state table (on demand)',
    `${tables.length} table(s): ${Math.round(stateWrites)} writes and ${Math.round(stateReads)} reads a month (assumed per run); storage and backups of a few KiB`,
    (stateWrites / 1e6) * PRICES.dynamoWritePerMillion + (stateReads / 1e6) * PRICES.dynamoReadPerMillion,
  );
  const queues = of('AWS::SQS::Queue');
  add(
    'guardrails',
    'SQS queues (redrive, dead letters)',
    `${queues.length}: empty unless a delivery fails; their metrics are free; no poller`,
    0,
  );
  const subscriptions = of('AWS::SNS::Subscription');
  const email = subscriptions.filter((s) => s.props.Protocol === 'email').length;
  const https = subscriptions.length - email;
  add(
    'guardrails',
    'SNS deliveries',
    `${USAGE.alertsPerMonth} alerts a month (assumed) to ${email} mail and ${https} HTTPS subscriptions`,
    ((USAGE.alertsPerMonth * email) / 100_000) * PRICES.snsEmailPer100000 +
      ((USAGE.alertsPerMonth * https) / 1e6) * PRICES.snsHttpsPerMillion,
  );
  add(
    'guardrails',
    'AWS Budgets (no actions)',
    `${of('AWS::Budgets::Budget').length} x $${PRICES.budget}`,
    of('AWS::Budgets::Budget').length * PRICES.budget,
  );
  add(
    'guardrails',
    'Cost Anomaly Detection',
    `${of('AWS::CE::AnomalyMonitor').length} monitor, ${of('AWS::CE::AnomalySubscription').length} subscription (free)`,
    0,
  );
  const insights = of('AWS::ECS::Cluster').filter((c) =>
    (c.props.ClusterSettings ?? []).some(
      (s: Json) => s.Name === 'containerInsights' && s.Value !== 'disabled',
    ),
  ).length;
  add(
    'guardrails',
    'Container Insights',
    insights > 0 ? `${insights} cluster x ~$${PRICES.containerInsights}` : 'off (cost.containerInsights)',
    insights * PRICES.containerInsights,
  );
  const flowLogs = of('AWS::EC2::FlowLog').length;
  if (flowLogs > 0)
    add(
      'guardrails',
      'VPC flow logs (created VPC)',
      `${flowLogs} x ${USAGE.flowLogGib} GiB a month (assumed) ingested and kept`,
      flowLogs * logsUsd(USAGE.flowLogGib, 14),
    );

  // --- Shown, not in the target ------------------------------------------------------------------------------
  const acls = of('AWS::WAFv2::WebACL');
  for (const acl of acls) {
    const rules = (acl.props.Rules ?? []).length;
    add(
      'excluded',
      'Web ACL in front of the load balancer',
      `$${PRICES.wafWebAcl} + ${rules} rules x $${PRICES.wafRule} + ${USAGE.webRequestsMillions} million requests (assumed) x $0.60`,
      PRICES.wafWebAcl + rules * PRICES.wafRule + USAGE.webRequestsMillions * 0.6,
    );
  }
  const nats = of('AWS::EC2::NatGateway').length;
  if (nats > 0)
    add(
      'excluded',
      'NAT gateways and their public addresses',
      `${nats} x 730 h x ($${PRICES.natGatewayHour} + $${PRICES.publicIpv4Hour} IPv4), plus $0.045 per GB processed`,
      nats * HOURS_PER_MONTH * (PRICES.natGatewayHour + PRICES.publicIpv4Hour),
    );
  const taskLogs = of('AWS::Logs::LogGroup').filter((l) => /Routing(Blue|Green)Logs|Waf|rds/i.test(l.id));
  add(
    'excluded',
    'Load balancer access-log bucket, tasks, web ACL and database log groups',
    `${of('AWS::S3::Bucket').length} bucket(s), ${taskLogs.length} log group(s): usage of the services they log`,
    0,
  );

  const total = lines.filter((l) => l.group === 'guardrails').reduce((n, l) => n + l.usd, 0);
  const excluded = lines.filter((l) => l.group === 'excluded').reduce((n, l) => n + l.usd, 0);
  return { lines, total, excluded };
}
