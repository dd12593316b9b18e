import { ConfigError, loadConfig, rawConfig, validateConfig } from '../../../lib/config';

type Raw = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A mutation of a valid environment config, the expected error text, and a fixed twin that must pass. */
interface Case {
  readonly name: string;
  readonly env: 'dev' | 'staging' | 'prod';
  readonly broken: (c: Raw) => void;
  readonly fixed: (c: Raw) => void;
  readonly message: RegExp;
}

const health = (c: Raw) => c.alerting.databaseHealth;

const CASES: Case[] = [
  {
    name: 'prod without a critical subscriber (a page that reaches no one)',
    env: 'prod',
    broken: (c) => (c.alerting.criticalSubscriptions = []),
    fixed: (c) =>
      (c.alerting.criticalSubscriptions = [{ protocol: 'https', endpoint: 'https://pager.example.com/e' }]),
    message: /alerting\.criticalSubscriptions: got \[\], expected at least one critical subscriber in prod/,
  },
  {
    name: 'CPU percentage above 100',
    env: 'prod',
    broken: (c) => (health(c).cpuPercent = { warning: 80, critical: 120 }),
    fixed: (c) => (health(c).cpuPercent = { warning: 80, critical: 99 }),
    message:
      /alerting\.databaseHealth\.cpuPercent\.critical: got 120, expected a percentage between 0 and 100, exclusive/,
  },
  {
    name: 'free-storage percentage of 0 (could never fire)',
    env: 'staging',
    broken: (c) => (health(c).freeStoragePercent = { warning: 10, critical: 0 }),
    fixed: (c) => (health(c).freeStoragePercent = { warning: 10, critical: 5 }),
    message:
      /alerting\.databaseHealth\.freeStoragePercent\.critical: got 0, expected a percentage between 0 and 100/,
  },
  {
    name: 'CPU warning at or above critical (higher is worse)',
    env: 'dev',
    broken: (c) => (health(c).cpuPercent = { warning: 95, critical: 95 }),
    fixed: (c) => (health(c).cpuPercent = { warning: 94, critical: 95 }),
    message:
      /alerting\.databaseHealth\.cpuPercent\.warning: got 95, expected a warning threshold below the critical one \(95%\): higher is worse/,
  },
  {
    name: 'free-storage warning below critical (lower is worse)',
    env: 'prod',
    broken: (c) => (health(c).freeStoragePercent = { warning: 5, critical: 10 }),
    fixed: (c) => (health(c).freeStoragePercent = { warning: 15, critical: 10 }),
    message:
      /alerting\.databaseHealth\.freeStoragePercent\.warning: got 5, expected a warning threshold above the critical one \(10%\): lower is worse/,
  },
  {
    name: 'memory warning below critical (lower is worse)',
    env: 'dev',
    broken: (c) => (health(c).freeableMemoryMiB = { warning: 64, critical: 128 }),
    fixed: (c) => (health(c).freeableMemoryMiB = { warning: 256, critical: 128 }),
    message:
      /freeableMemoryMiB\.warning: got 64, expected a warning threshold above the critical one \(128 MiB\)/,
  },
  {
    name: 'latency warning above critical',
    env: 'staging',
    broken: (c) => (health(c).writeLatencyMs = { warning: 200, critical: 100 }),
    fixed: (c) => (health(c).writeLatencyMs = { warning: 50, critical: 100 }),
    message:
      /writeLatencyMs\.warning: got 200, expected a warning threshold below the critical one \(100 ms\)/,
  },
  {
    name: 'thresholds with neither severity',
    env: 'prod',
    broken: (c) => (health(c).diskQueueDepth = {}),
    fixed: (c) => (health(c).diskQueueDepth = { critical: 64 }),
    message: /alerting\.databaseHealth\.diskQueueDepth: got \{\}, expected at least one of warning, critical/,
  },
  {
    name: 'a severity that is not warning or critical (typo)',
    env: 'prod',
    broken: (c) => (health(c).cpuPercent = { warn: 80, critical: 95 }),
    fixed: (c) => (health(c).cpuPercent = { warning: 80, critical: 95 }),
    message: /alerting\.databaseHealth\.cpuPercent: unknown field\(s\) "warn"/,
  },
  {
    name: 'connections missing (no safe default)',
    env: 'staging',
    broken: (c) => delete health(c).connections,
    fixed: (c) => (health(c).connections = { critical: 450 }),
    message: /alerting\.databaseHealth\.connections: got nothing \(missing\), expected a value/,
  },
  {
    name: 'fractional connection count',
    env: 'prod',
    broken: (c) => (health(c).connections = { warning: 400.5, critical: 475 }),
    fixed: (c) => (health(c).connections = { warning: 400, critical: 475 }),
    message:
      /alerting\.databaseHealth\.connections\.warning: got 400\.5, expected a positive whole number \(connections\)/,
  },
  {
    name: 'negative latency',
    env: 'dev',
    broken: (c) => (health(c).readLatencyMs = { warning: -5, critical: 100 }),
    fixed: (c) => (health(c).readLatencyMs = { warning: 5, critical: 100 }),
    message: /alerting\.databaseHealth\.readLatencyMs\.warning: got -5, expected a positive number \(ms\)/,
  },
  {
    name: 'a period CloudWatch does not offer',
    env: 'prod',
    broken: (c) => (health(c).periodMinutes = 2),
    fixed: (c) => (health(c).periodMinutes = 5),
    message: /alerting\.databaseHealth\.periodMinutes: got 2, expected one of 1, 5, 10, 15, 30, 60 minutes/,
  },
  {
    name: 'more datapoints to alarm than evaluated',
    env: 'prod',
    broken: (c) => (health(c).datapointsToAlarm = 6),
    fixed: (c) => (health(c).datapointsToAlarm = 4),
    message: /alerting\.databaseHealth\.datapointsToAlarm: got 6, expected at most evaluationPeriods \(5\)/,
  },
  {
    name: 'an evaluation window longer than a day',
    env: 'dev',
    broken: (c) => {
      health(c).periodMinutes = 60;
      health(c).evaluationPeriods = 25;
    },
    fixed: (c) => {
      health(c).periodMinutes = 60;
      health(c).evaluationPeriods = 24;
    },
    message:
      /alerting\.databaseHealth\.evaluationPeriods: got 25, expected periodMinutes x evaluationPeriods of at most 1440 minutes/,
  },
  {
    name: 'free-storage floor at the allocated size (would alarm on an empty disk)',
    env: 'dev',
    broken: (c) => (health(c).freeStorageGiB = { critical: 20 }),
    fixed: (c) => (health(c).freeStorageGiB = { critical: 2 }),
    message:
      /alerting\.databaseHealth\.freeStorageGiB\.critical: got 20, expected a free-storage floor below the allocated storage \(database\.allocatedStorageGiB = 20\)/,
  },
  {
    name: 'unknown field in databaseHealth (a typo)',
    env: 'staging',
    broken: (c) => (health(c).cpuPercnt = { critical: 90 }),
    fixed: (c) => (health(c).cpuPercent = { critical: 90 }),
    message: /alerting\.databaseHealth: unknown field\(s\) "cpuPercnt"/,
  },
];

describe('alerting config: each rule has a failing and a passing case', () => {
  it.each(CASES)('$name', ({ env, broken, fixed, message }) => {
    const bad = structuredClone(rawConfig(env));
    broken(bad);
    let error: unknown;
    try {
      validateConfig(env, bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(message);
    expect((error as ConfigError).message).toContain(`environment "${env}"`);

    const good = structuredClone(rawConfig(env));
    fixed(good);
    expect(() => validateConfig(env, good)).not.toThrow();
  });
});

describe('alerting config defaults and environments', () => {
  it('fills database-health defaults keyed by severity, keeping what the environment sets', () => {
    const raw = structuredClone(rawConfig('staging')) as Raw;
    raw.alerting.databaseHealth = { connections: { warning: 100, critical: 120 } };
    const h = validateConfig('staging', raw).alerting.databaseHealth;
    expect(h).toEqual({
      periodMinutes: 5,
      evaluationPeriods: 3,
      cpuPercent: { warning: 80, critical: 95 },
      freeStoragePercent: { warning: 20, critical: 10 },
      freeStorageGiB: { critical: 2 },
      freeableMemoryMiB: { warning: 256, critical: 128 },
      connections: { warning: 100, critical: 120 },
      readLatencyMs: { warning: 20, critical: 100 },
      writeLatencyMs: { warning: 20, critical: 100 },
      diskQueueDepth: { warning: 10 },
      transactionIdsUsed: { warning: 1_000_000_000, critical: 1_500_000_000 },
      transactionLogsGiB: { warning: 10 },
      replicationSlotLagGiB: { warning: 5 },
    });
  });

  it('refuses transaction-id thresholds at or past the wraparound limit', () => {
    const raw = structuredClone(rawConfig('staging')) as Raw;
    raw.alerting.databaseHealth.transactionIdsUsed = { critical: 2_100_000_000 };
    expect(() => validateConfig('staging', raw)).toThrow(
      /alerting\.databaseHealth\.transactionIdsUsed: .*expected thresholds below 2,000,000,000/,
    );
  });

  it('pages faster in staging and prod than in dev, and gives prod an absolute storage floor', () => {
    const [dev, staging, prod] = (['dev', 'staging', 'prod'] as const).map(
      (e) => loadConfig(e).alerting.databaseHealth,
    );
    expect(dev!.periodMinutes * dev!.evaluationPeriods).toBe(15);
    expect(staging!.periodMinutes * staging!.evaluationPeriods).toBe(5);
    expect(prod!.periodMinutes * prod!.evaluationPeriods).toBe(5);
    expect(prod!.freeStorageGiB).toEqual({ warning: 30, critical: 10 });
    expect(loadConfig('prod').alerting.criticalSubscriptions.length).toBeGreaterThan(0);
  });
});
