/**
 * `npm run bench -- cost`: the guardrails' own fixed monthly cost per environment, computed from the
 * synthesized templates at us-east-1 list prices (no free tier), excluding what the pipelines need anyway:
 * the load balancer, Fargate, RDS and a NAT gateway. Target: at most $25 a month per environment.
 *
 * Counted from the templates: alarms (per metric; high resolution and composite priced as such), dashboards,
 * customer-managed KMS keys, secrets, budgets, Container Insights, the custom metric series the checker and
 * the other functions publish (the checker's from its own metricData() for a complete run of the configured
 * checks), and the scheduled functions (invocations from the schedules; memory from the template; duration,
 * log bytes and state-table requests per run ASSUMED, see RUN_ASSUMPTIONS).
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { metricData } from '../lambda/data-checks/metrics';
import type { RunReport } from '../lambda/data-checks/checker';
import { loadConfig, type EnvironmentConfig } from '../lib/config';
import { createStacks } from '../lib/create-stacks';
import { ENVIRONMENT_NAMES, METRIC_NAMESPACE } from '../lib/project';
import type { Benchmark } from './index';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export const TARGET_USD_PER_MONTH = 25;
const HOURS_PER_MONTH = 730;
const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;

/** us-east-1 list prices, USD (CloudWatch, KMS, Secrets Manager, Lambda arm64, DynamoDB on-demand, Budgets). */
export const PRICES = {
  alarmStandardPerMetric: 0.1,
  alarmHighResolutionPerMetric: 0.3,
  compositeAlarm: 0.5,
  customMetric: 0.3,
  dashboard: 3.0,
  putMetricDataPer1000: 0.01,
  kmsKey: 1.0,
  secret: 0.4,
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequestPerMillion: 0.2,
  logsIngestPerGb: 0.5,
  dynamoWritePerMillion: 0.625,
  dynamoReadPerMillion: 0.125,
  /**
   * The first two active budgets of an account are free, then $0.02 a day each. Each environment has its own
   * account and this is its only budget: counted as free (add $0.61 where the account already has two).
   */
  budget: 0,
  /** Container Insights on a cluster with two services: its ~40 metrics and performance log events (estimate). */
  containerInsights: 15.0,
} as const;

/** Per scheduled run: what the template cannot say. Conservative for the checker at production size. */
export const RUN_ASSUMPTIONS: Record<
  string,
  { seconds: number; logBytes: number; writes: number; reads: number }
> = {
  // The checker's sweep takes 43 ms wall at SCALE=1 (npm run bench -- data-checks); 2 s covers the secret,
  // state-table and PutMetricData calls and an occasional cold start.
  'data-checks': { seconds: 2, logBytes: 4096, writes: 8, reads: 8 },
  snapshots: { seconds: 5, logBytes: 2048, writes: 0, reads: 0 },
};

export interface CostLine {
  readonly item: string;
  readonly quantity: string;
  readonly usd: number;
}

function rateMinutes(expression: string): number | undefined {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2]!.startsWith('minute') ? n : m[2]!.startsWith('hour') ? n * 60 : n * 1440;
}

function resourcesOf(template: Json, type: string): Json[] {
  return Object.values(template.Resources ?? {}).filter((r: Json) => r.Type === type);
}

/** The custom metric series one complete checker run publishes (names and dimensions). */
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
  const series = new Set(
    metricData(config.envName, report).map((d) =>
      JSON.stringify([d.MetricName, (d.Dimensions ?? []).map((x) => `${x.Name}=${x.Value}`)]),
    ),
  );
  return [...series].sort();
}

/** Every fixed monthly cost item of one environment's templates. */
export function costLines(config: EnvironmentConfig, templates: readonly Json[]): CostLine[] {
  const lines: CostLine[] = [];
  const all = (type: string) => templates.flatMap((t) => resourcesOf(t, type));

  // Alarms: priced per metric they evaluate; a period under 60 s is a high-resolution alarm.
  let standard = 0;
  let highRes = 0;
  for (const a of all('AWS::CloudWatch::Alarm')) {
    const p = a.Properties;
    const metrics = p.Metrics ? (p.Metrics as Json[]).filter((m) => m.MetricStat).length : 1;
    const period = Number(p.Period ?? p.Metrics?.find((m: Json) => m.MetricStat)?.MetricStat.Period ?? 60);
    if (period < 60) highRes += metrics;
    else standard += metrics;
  }
  const alarms = all('AWS::CloudWatch::Alarm').length;
  lines.push({
    item: 'CloudWatch alarms (standard)',
    quantity: `${standard} alarm metrics`,
    usd: standard * PRICES.alarmStandardPerMetric,
  });
  lines.push({
    item: 'CloudWatch alarms (high resolution, 10 s)',
    quantity: `${highRes} alarm metrics`,
    usd: highRes * PRICES.alarmHighResolutionPerMetric,
  });
  const composites = all('AWS::CloudWatch::CompositeAlarm').length;
  lines.push({
    item: 'Composite alarms',
    quantity: `${composites}`,
    usd: composites * PRICES.compositeAlarm,
  });
  const dashboards = all('AWS::CloudWatch::Dashboard').length;
  lines.push({ item: 'Dashboards', quantity: `${dashboards}`, usd: dashboards * PRICES.dashboard });

  // Custom metrics: the checker's series, the snapshot function's (age and count per region, failures), the
  // traffic weight.
  const checker = checkerSeries(config);
  const snapshotRegions = config.snapshots.enabled ? (config.snapshots.copy ? 2 : 1) : 0;
  const snapshotSeries = snapshotRegions === 0 ? 0 : snapshotRegions * 2 + 1;
  const weightSeries = config.routing.enabled ? 1 : 0;
  const customSeries = checker.length + snapshotSeries + weightSeries;
  lines.push({
    item: `Custom metrics (${METRIC_NAMESPACE})`,
    quantity: `${customSeries} series (checker ${checker.length}, snapshots ${snapshotSeries}, weights ${weightSeries})`,
    usd: customSeries * PRICES.customMetric,
  });

  // Scheduled functions: invocations per month from the schedules.
  const schedules = all('AWS::Scheduler::Schedule').map((s) => s.Properties);
  const functions = templates.flatMap((t) =>
    Object.entries(t.Resources ?? {}).filter(([, r]: [string, Json]) => r.Type === 'AWS::Lambda::Function'),
  ) as [string, Json][];
  const invocationsOf = (minutes: number | undefined) =>
    minutes === undefined ? 0 : MINUTES_PER_MONTH / minutes;
  const checksMinutes = config.checks.scheduleMinutes;
  const runs: { name: string; perMonth: number; memoryMb: number }[] = [];
  const memoryOf = (description: RegExp) =>
    Number(
      functions.find(([, f]) => description.test(String(f.Properties.Description ?? '')))?.[1].Properties
        .MemorySize ?? 128,
    );
  runs.push({
    name: 'data-checks',
    perMonth: invocationsOf(checksMinutes),
    memoryMb: memoryOf(/data integrity and freshness checks/),
  });
  if (config.snapshots.enabled) {
    const perMonth = schedules
      .filter((s) => /snapshot/.test(String(s.Name)))
      .reduce((n, s) => n + invocationsOf(rateMinutes(String(s.ScheduleExpression)) ?? 1440), 0);
    runs.push({ name: 'snapshots', perMonth, memoryMb: memoryOf(/snapshot/i) });
  }
  for (const r of runs) {
    const a = RUN_ASSUMPTIONS[r.name]!;
    const compute = r.perMonth * a.seconds * (r.memoryMb / 1024) * PRICES.lambdaArmGbSecond;
    const requests = (r.perMonth / 1e6) * PRICES.lambdaRequestPerMillion;
    const logs = ((r.perMonth * a.logBytes) / 1024 ** 3) * PRICES.logsIngestPerGb;
    const puts = (r.perMonth / 1000) * PRICES.putMetricDataPer1000;
    const state =
      ((r.perMonth * a.writes) / 1e6) * PRICES.dynamoWritePerMillion +
      ((r.perMonth * a.reads) / 1e6) * PRICES.dynamoReadPerMillion;
    lines.push({
      item: `Function ${r.name}: compute, requests, logs, PutMetricData, state table`,
      quantity: `${Math.round(r.perMonth)} runs x ${a.seconds} s x ${r.memoryMb} MB (assumed duration)`,
      usd: compute + requests + logs + puts + state,
    });
  }

  const keys = all('AWS::KMS::Key').length;
  lines.push({ item: 'KMS customer-managed keys', quantity: `${keys}`, usd: keys * PRICES.kmsKey });
  const secrets = all('AWS::SecretsManager::Secret').length;
  lines.push({ item: 'Secrets Manager secrets', quantity: `${secrets}`, usd: secrets * PRICES.secret });
  const budgets = all('AWS::Budgets::Budget').length;
  lines.push({
    item: 'AWS Budgets (no actions; first two per account free)',
    quantity: `${budgets}`,
    usd: budgets * PRICES.budget,
  });
  lines.push({
    item: 'Cost Anomaly Detection',
    quantity: `${all('AWS::CE::AnomalyMonitor').length} monitor`,
    usd: 0,
  });
  const insights = all('AWS::ECS::Cluster').filter((c) =>
    (c.Properties.ClusterSettings ?? []).some(
      (s: Json) => s.Name === 'containerInsights' && s.Value !== 'disabled',
    ),
  ).length;
  lines.push({
    item: 'Container Insights',
    quantity: insights > 0 ? `${insights} cluster` : 'off (cost.containerInsights)',
    usd: insights * PRICES.containerInsights,
  });
  lines.push({ item: `(alarms in all: ${alarms})`, quantity: '', usd: 0 });
  return lines;
}

/** Synthesizes one environment (no bundling: asset hashes do not change prices) and returns its templates. */
export function synthTemplates(envName: string): { config: EnvironmentConfig; templates: Json[] } {
  const config = loadConfig(envName);
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = createStacks(app, config);
  app.synth();
  return {
    config,
    templates: [Template.fromStack(stacks.stateful).toJSON(), Template.fromStack(stacks.guardrails).toJSON()],
  };
}

const bench: Benchmark = {
  async run() {
    let ok = true;
    for (const env of ENVIRONMENT_NAMES) {
      const { config, templates } = synthTemplates(env);
      const lines = costLines(config, templates);
      const total = lines.reduce((n, l) => n + l.usd, 0);
      console.log(`  ${env}`);
      for (const l of lines)
        console.log(`    ${l.item.padEnd(66)} ${l.quantity.padEnd(58)} $${l.usd.toFixed(2).padStart(6)}`);
      console.log(
        `    ${'TOTAL (excluding load balancer, Fargate, RDS, NAT gateway)'.padEnd(125)} $${total.toFixed(2).padStart(6)} (target <= $${TARGET_USD_PER_MONTH})`,
      );
      if (total > TARGET_USD_PER_MONTH) ok = false;
    }
    return ok;
  },
};
export default bench;
