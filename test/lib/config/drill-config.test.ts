import { loadConfig, rawConfig, validateConfig } from '../../../lib/config';
import { cloneRaw } from '../../support/app';

/** `snapshots.drill`: a mutation of a valid environment config, the expected error, and a fixed twin. */
interface Case {
  readonly name: string;
  readonly env: 'dev' | 'staging' | 'prod';
  readonly broken: (c: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly fixed: (c: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly message: RegExp;
}

const CASES: Case[] = [
  {
    name: 'a schedule that is no expression',
    env: 'prod',
    broken: (c) => (c.snapshots.drill.schedule = 'weekly'),
    fixed: (c) => (c.snapshots.drill.schedule = 'cron(0 5 ? * SAT *)'),
    message: /snapshots\.drill\.schedule: got "weekly", expected rate\(<n> minutes\|hours\|days\) or cron\(/,
  },
  {
    name: 'more than one drill a day',
    env: 'staging',
    broken: (c) => (c.snapshots.drill.schedule = 'rate(6 hours)'),
    fixed: (c) => (c.snapshots.drill.schedule = 'rate(7 days)'),
    message: /snapshots\.drill\.schedule: got "rate\(6 hours\)", expected at most one drill a day/,
  },
  {
    name: 'a no-success window shorter than the schedule interval',
    env: 'staging',
    broken: (c) => {
      c.snapshots.drill.schedule = 'rate(14 days)';
      c.snapshots.drill.maxDaysWithoutSuccess = 8;
    },
    fixed: (c) => {
      c.snapshots.drill.schedule = 'rate(14 days)';
      c.snapshots.drill.maxDaysWithoutSuccess = 15;
    },
    message:
      /snapshots\.drill\.maxDaysWithoutSuccess: got 8, expected at least the schedule's interval \(14 days\)/,
  },
  {
    name: 'a recovery-time objective not below the timeout',
    env: 'prod',
    broken: (c) => (c.snapshots.drill.recoveryTimeObjectiveMinutes = 240),
    fixed: (c) => (c.snapshots.drill.recoveryTimeObjectiveMinutes = 120),
    message:
      /snapshots\.drill\.recoveryTimeObjectiveMinutes: got 240, expected less than timeoutMinutes \(240\)/,
  },
  {
    name: 'an instance class that is no RDS class',
    env: 'prod',
    broken: (c) => (c.snapshots.drill.instanceClass = 't4g.medium'),
    fixed: (c) => (c.snapshots.drill.instanceClass = 'db.t4g.large'),
    message:
      /snapshots\.drill\.instanceClass: got "t4g\.medium", expected an RDS instance class such as db\.t4g\.medium/,
  },
  {
    name: 'a timeout too short for a restore',
    env: 'prod',
    broken: (c) => (c.snapshots.drill.timeoutMinutes = 10),
    fixed: (c) => (c.snapshots.drill.timeoutMinutes = 180),
    message: /snapshots\.drill\.timeoutMinutes: got 10, expected minutes from 30 to 1440/,
  },
  {
    name: 'a drill without maxDaysWithoutSuccess',
    env: 'dev',
    broken: (c) => (c.snapshots.drill = {}),
    fixed: (c) => (c.snapshots.drill = { maxDaysWithoutSuccess: 40 }),
    message: /snapshots\.drill\.maxDaysWithoutSuccess/,
  },
  {
    name: 'a sentinel that is not a single SELECT',
    env: 'prod',
    broken: (c) => (c.snapshots.drill.sentinel.sql = 'DELETE FROM games'),
    fixed: (c) => (c.snapshots.drill.sentinel.sql = 'SELECT count(*) FROM games'),
    message: /snapshots\.drill\.sentinel\.sql: got "DELETE FROM games", expected a single SELECT/,
  },
];

describe('snapshots.drill config validation', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('rejects %s, and accepts the fixed twin', (_name, c) => {
    const broken = cloneRaw(rawConfig(c.env));
    c.broken(broken);
    expect(() => validateConfig(c.env, broken)).toThrow(c.message);
    expect(() => validateConfig(c.env, broken)).toThrow(new RegExp(`environment "${c.env}"`));
    const fixed = cloneRaw(rawConfig(c.env));
    c.fixed(fixed);
    expect(() => validateConfig(c.env, fixed)).not.toThrow();
  });

  it('prod drills weekly, staging monthly, dev not at all; defaults filled', () => {
    expect(loadConfig('prod').snapshots.drill).toMatchObject({
      schedule: 'cron(0 5 ? * SUN *)',
      instanceClass: 'db.t4g.medium',
      maxDaysWithoutSuccess: 8,
      timeoutMinutes: 240,
      recoveryTimeObjectiveMinutes: 60,
      sentinel: { name: 'drill-games-present', min: 44_828 },
    });
    expect(loadConfig('staging').snapshots.drill).toMatchObject({
      schedule: 'cron(0 5 1 * ? *)',
      maxDaysWithoutSuccess: 35,
    });
    expect(loadConfig('dev').snapshots.drill).toBeUndefined();
    const raw = cloneRaw(rawConfig('dev'));
    (raw.snapshots as Record<string, unknown>).drill = { maxDaysWithoutSuccess: 40 };
    expect(validateConfig('dev', raw).snapshots.drill).toEqual({
      instanceClass: 'db.t4g.medium',
      timeoutMinutes: 240,
      maxDaysWithoutSuccess: 40,
      recoveryTimeObjectiveMinutes: 60,
    });
  });
});
