/**
 * Healthy metrics of one environment and the failures the paging policy is tested with (see docs/RUNBOOK.md,
 * "One page per cause"). A scenario is a function from a metric to its samples; every metric an alarm of
 * the synthesized template watches must be known here (an unknown one fails the test, so a new alarm gets a
 * baseline before it can be counted).
 */
import type { EnvironmentConfig } from '../../lib/config';
import type { MetricId, Sample, Scenario, Series } from './alarm-simulator';

const GIB = 1024 ** 3;
export const HISTORY_SECONDS = 2 * 86400;

/** Samples every `every` seconds at `offset`, from two days before the start to `until`. */
export function every(
  every: number,
  value: (t: number) => number | undefined,
  until: number,
  offset = 0,
): Sample[] {
  const out: Sample[] = [];
  for (let t = -HISTORY_SECONDS + offset; t < until; t += every) {
    const v = value(t);
    if (v !== undefined) out.push({ t, value: v });
  }
  return out;
}

export interface BaselineOptions {
  readonly horizon: number;
  /** Seconds after its scheduled start when a checker run publishes. @default 20 */
  readonly runSeconds?: number;
}

/** What a healthy environment publishes. */
export function baseline(config: EnvironmentConfig, options: BaselineOptions): Series {
  const h = options.horizon;
  const run = options.runSeconds ?? 20;
  const schedule = config.checks.scheduleMinutes * 60;
  const floorOf = (table: string | undefined) =>
    config.checks.tables.find((t) => `${t.schemaName}.${t.table}` === table)?.minRows;
  const color = (dims: MetricId['dims']) => (/Green/.test(JSON.stringify(dims)) ? 'green' : 'blue');
  return (m) => {
    switch (m.namespace) {
      case 'PipelineGuardrails': {
        const checker = (v: number) => every(schedule, () => v, h, run);
        switch (m.name) {
          case 'RowCount':
            return checker((floorOf(m.dims.Table) ?? 500_000) * 2);
          case 'RowsLost':
          case 'UnverifiedTables':
          case 'SchemaChangedTables':
          case 'CustomCheckValue':
            return checker(0);
          // Published only when non-zero (per table, or per run for the failure counters).
          case 'Unverified':
          case 'SchemaChanged':
          case 'CheckFailures':
          case 'DatabaseUnreachable':
            return [];
          case 'FreshnessAgeSeconds':
            return checker(600);
          case 'Heartbeat':
            return checker(1);
          case 'NewestSnapshotAgeMinutes':
            return every(900, () => 60, h);
          case 'ManualSnapshotCount':
            return every(900, () => 10, h);
          case 'SnapshotFailures':
            return [];
          case 'GreenWeightPercent':
            return every(60, () => 0, h);
          // Output parity (one run per pair and schedule; published every minute here, always fresh).
          case 'ParityDifferences':
            return every(60, () => 0, h);
          // Published only when non-zero.
          case 'ParityOnlyInBlue':
          case 'ParityOnlyInGreen':
          case 'ParityChanged':
          case 'ParityDuplicateKeys':
          case 'ParityNullKeys':
          case 'ParityFailures':
            return [];
          case 'ParityHeartbeat':
            return every(60, () => 1, h);
          // Restore drills: one a week (here: daily, all good), the upkeep every 15 minutes.
          case 'RestoreDrillSucceeded':
            return every(86400, () => 1, h);
          case 'RestoreMinutes':
          case 'RestoreDrillMinutes':
            return every(86400, () => 30, h);
          case 'RestoreVerifyMinutes':
          case 'RestoreChecksFailed':
            return every(86400, () => 0, h);
          case 'RestoreDrillInstancesLeaked':
            return [];
          case 'RestoreRecoveryPointAgeHours':
            return every(86400, () => 12, h);
          case 'RestoreDrillDaysSinceSuccess':
            return every(900, () => 1, h);
          default:
            return undefined;
        }
      }
      case 'AWS/RDS': {
        const rds = (v: number) => every(60, () => v, h);
        const allocated = config.database.allocatedStorageGiB;
        const values: Record<string, number> = {
          CPUUtilization: 20,
          FreeStorageSpace: 0.75 * allocated * GIB,
          FreeableMemory: 4 * GIB,
          DatabaseConnections: 20,
          ReadLatency: 0.002,
          WriteLatency: 0.002,
          DiskQueueDepth: 1,
          MaximumUsedTransactionIDs: 100_000_000,
          TransactionLogsDiskUsage: 0.5 * GIB,
          OldestReplicationSlotLag: 0,
        };
        return m.name in values ? rds(values[m.name]!) : undefined;
      }
      case 'AWS/ApplicationELB': {
        const c = color(m.dims);
        const desired = config.routing[c].desiredCount;
        const values: Record<string, number | undefined> = {
          RequestCount: c === 'blue' ? 100 : 0,
          HTTPCode_Target_5XX_Count: 0,
          TargetConnectionErrorCount: 0,
          TargetResponseTime: 0.4,
          HealthyHostCount: desired,
          UnHealthyHostCount: 0,
          HTTPCode_ELB_5XX_Count: 0,
          RejectedConnectionCount: 0,
        };
        return m.name in values ? every(60, () => values[m.name], h) : undefined;
      }
      case 'AWS/ECS':
        return m.name === 'CPUUtilization' || m.name === 'MemoryUtilization'
          ? every(60, () => 30, h)
          : undefined;
      case 'AWS/CertificateManager':
        return m.name === 'DaysToExpiry' ? every(86400, () => 200, h) : undefined;
      case 'AWS/Lambda':
        return ['Errors', 'Throttles'].includes(m.name)
          ? every(60, () => 0, h)
          : m.name === 'Duration'
            ? every(60, () => 2000, h)
            : undefined;
      case 'AWS/SNS':
        return m.name === 'NumberOfNotificationsFailed' ? [] : undefined;
      case 'AWS/SQS':
        // The alert topics' redrive queues: empty while every notification is delivered.
        return m.name === 'ApproximateNumberOfMessagesVisible' ? every(60, () => 0, h) : undefined;
      case 'AWS/States':
      case 'AWS/Events':
        return [];
      default:
        return undefined;
    }
  };
}

/** The baseline with some metrics replaced from `from` seconds on. */
export function override(
  base: Series,
  from: number,
  replace: (m: MetricId, samples: readonly Sample[]) => readonly Sample[] | undefined,
): Series {
  return (m) => {
    const samples = base(m);
    if (samples === undefined) return undefined;
    const replaced = replace(m, samples);
    if (replaced === undefined) return samples;
    return [...samples.filter((s) => s.t < from), ...replaced.filter((s) => s.t >= from)];
  };
}

export interface Cause {
  readonly name: string;
  readonly scenario: Scenario;
}

/** The failures of the issue, each as metrics of one environment from `t0` on. */
export function causes(config: EnvironmentConfig, horizon: number, t0: number): Cause[] {
  const base = baseline(config, { horizon });
  const schedule = config.checks.scheduleMinutes * 60;
  /** A value at each checker run (20 s after each scheduled start, as the baseline). */
  const atRuns = (value: number) => every(schedule, () => value, horizon, 20);
  /** The per-run loss metric (what the one rows-lost alarm reads), as opposed to the per-table one. */
  const perRun = (m: MetricId) => m.dims.Table === undefined;
  const guarded = config.checks.tables.find((t) => t.noDecrease) ?? config.checks.tables[0]!;
  const key = `${guarded.schemaName}.${guarded.table}`;
  const checkerStopped = (m: MetricId) =>
    m.namespace === 'PipelineGuardrails' && !/Snapshot|GreenWeight/.test(m.name);
  const lost = 1000;
  return [
    {
      name: `a delete of ${lost} rows on ${key}`,
      scenario: {
        series: override(base, t0, (m, s) => {
          if (m.namespace !== 'PipelineGuardrails') return undefined;
          if (m.name === 'RowsLost' && perRun(m)) return s.map((x) => ({ ...x, value: lost }));
          if (m.dims.Table !== key) return undefined;
          if (m.name === 'RowsLost') return atRuns(lost);
          if (m.name === 'RowCount')
            return s.map((x) => ({ ...x, value: (guarded.minRows ?? x.value / 2) - lost }));
          return undefined;
        }),
      },
    },
    {
      name: 'the database is down (stopped: no connections, no RDS metrics)',
      scenario: {
        series: override(base, t0, (m, s) => {
          if (m.namespace === 'AWS/RDS') return [];
          // The pipelines cannot write: blue (100% of traffic) answers 5xx.
          if (m.namespace === 'AWS/ApplicationELB' && m.name === 'HTTPCode_Target_5XX_Count')
            return s.map((x) => ({ ...x, value: /Green/.test(JSON.stringify(m.dims)) ? 0 : 100 }));
          // Every run fails to connect: a failure and "could not connect", nothing else.
          if (checkerStopped(m)) {
            if (m.name === 'CheckFailures' && perRun(m)) return atRuns(1);
            if (m.name === 'DatabaseUnreachable') return atRuns(1);
            return [];
          }
          return undefined;
        }),
        rdsEvents: [
          { t: t0, category: 'notification' },
          { t: t0, category: 'availability' },
          { t: t0, category: 'failure' },
        ],
      },
    },
    {
      name: 'storage fills up (WAL retained by a forgotten replication slot)',
      scenario: {
        series: override(base, t0, (m, s) => {
          if (m.namespace !== 'AWS/RDS') return undefined;
          const allocated = config.database.allocatedStorageGiB * GIB;
          // From 75% free to nothing over the first half of the rest of the horizon.
          const fill = (t: number) => Math.min(1, (t - t0) / ((horizon - t0) / 2));
          if (m.name === 'FreeStorageSpace')
            return s.map((x) => ({ ...x, value: Math.max(0, 0.75 * allocated * (1 - fill(x.t))) }));
          if (m.name === 'TransactionLogsDiskUsage' || m.name === 'OldestReplicationSlotLag')
            return s.map((x) => ({ ...x, value: 0.75 * allocated * fill(x.t) }));
          return undefined;
        }),
        rdsEvents: [{ t: t0 + (horizon - t0) / 2, category: 'low storage' }],
      },
    },
    {
      // The trigger alarm pages once; the automatic rollback (armed during the step) only mails its result.
      name: 'green answers 5xx at a 10% step',
      scenario: {
        greenWeight: 10,
        series: override(base, 0, (m, s) => {
          if (m.namespace !== 'AWS/ApplicationELB' || !/Green/.test(JSON.stringify(m.dims))) return undefined;
          if (m.name === 'RequestCount') return s.map((x) => ({ ...x, value: 10 }));
          if (m.name === 'HTTPCode_Target_5XX_Count')
            return s.map((x) => ({ ...x, value: x.t >= t0 ? 5 : 0 }));
          return undefined;
        }),
      },
    },
    {
      name: 'the checker is dead (not invoked)',
      scenario: {
        series: override(base, t0, (m) => (checkerStopped(m) ? [] : undefined)),
      },
    },
    {
      name: `a delete on ${key}, then the checker cannot look for 2 runs`,
      scenario: {
        series: override(base, t0, (m, s) => {
          const gap = (t: number) => t >= t0 + 2 * schedule && t < t0 + 4 * schedule;
          if (checkerStopped(m) && m.name !== 'CheckFailures') {
            const kept = s.filter((x) => !gap(x.t));
            if (m.name === 'RowsLost' && perRun(m)) return kept.map((x) => ({ ...x, value: lost }));
            if (m.dims.Table !== key) return kept;
            if (m.name === 'RowsLost') return atRuns(lost).filter((x) => !gap(x.t));
            if (m.name === 'RowCount')
              return kept.map((x) => ({ ...x, value: (guarded.minRows ?? x.value / 2) - lost }));
            return kept;
          }
          return undefined;
        }),
      },
    },
  ];
}
