import { loadConfig, rawConfig, validateConfig } from '../../../lib/config';
import {
  parseSchedule,
  snapshotIntervalMinutes,
  snapshotsSchema,
} from '../../../lib/config/sections/snapshots';
import { cloneRaw } from '../../support/app';

/** A mutation of a valid environment config, the expected error text, and a fixed twin that must pass. */
interface Case {
  readonly name: string;
  readonly env: 'dev' | 'staging' | 'prod';
  readonly broken: (c: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly fixed: (c: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly message: RegExp;
}

/** The prod environment with a database this app creates (automated backups, final snapshot). */
const CREATED_PROD_DB = {
  mode: 'create',
  databaseName: 'nba',
  allocatedStorageGiB: 200,
  maxAllocatedStorageGiB: 400,
  backupRetentionDays: 14,
  deletionProtection: true,
  removalPolicy: 'snapshot',
};
const PROD_KEY = 'arn:aws:kms:us-west-2:333333333333:key/5e5e5e5e-3333-4333-8333-333333333333';

const CASES: Case[] = [
  {
    name: 'rate with a unit that does not agree with its value',
    env: 'dev',
    broken: (c) => (c.snapshots.schedule = 'rate(2 hour)'),
    fixed: (c) => (c.snapshots.schedule = 'rate(2 hours)'),
    message: /snapshots\.schedule: got "rate\(2 hour\)", expected rate\(<n> minutes\|hours\|days\) or cron\(/,
  },
  {
    name: 'cron with five fields',
    env: 'dev',
    broken: (c) => (c.snapshots.schedule = 'cron(0 3 * * ?)'),
    fixed: (c) => (c.snapshots.schedule = 'cron(0 3 * * ? *)'),
    message: /snapshots\.schedule: got "cron\(0 3 \* \* \?\)", expected rate\(/,
  },
  {
    name: 'cron with both day fields set',
    env: 'staging',
    broken: (c) => (c.snapshots.schedule = 'cron(0 3 * * MON *)'),
    fixed: (c) => (c.snapshots.schedule = 'cron(0 3 * * ? *)'),
    message: /snapshots\.schedule: got "cron\(0 3 \* \* MON \*\)"/,
  },
  {
    name: 'cron on some days only, without its longest gap',
    env: 'staging',
    broken: (c) => (c.snapshots.schedule = 'cron(0 3 ? * MON-FRI *)'),
    fixed: (c) => {
      c.snapshots.schedule = 'cron(0 3 ? * MON-FRI *)';
      c.snapshots.maxIntervalMinutes = 3 * 1440;
    },
    message:
      /snapshots\.maxIntervalMinutes: got nothing \(missing\), expected a value \(the longest gap in minutes\) because cron\(0 3 \? \* MON-FRI \*\) does not fire every day/,
  },
  {
    name: 'more than one snapshot an hour',
    env: 'dev',
    broken: (c) => (c.snapshots.schedule = 'cron(0,30 * * * ? *)'),
    fixed: (c) => (c.snapshots.schedule = 'cron(0 * * * ? *)'),
    message:
      /snapshots\.schedule: got "cron\(0,30 \* \* \* \? \*\)", expected at most one snapshot an hour \(this fires every 30 minutes\)/,
  },
  {
    name: 'negative daily retention',
    env: 'prod',
    broken: (c) => (c.snapshots.retention.daily = -1),
    fixed: (c) => (c.snapshots.retention.daily = 0),
    message: /snapshots\.retention\.daily: got -1, expected days from 0 to 366/,
  },
  {
    name: 'a minimum of zero (nothing guaranteed to survive)',
    env: 'dev',
    broken: (c) => (c.snapshots.retention.minimum = 0),
    fixed: (c) => (c.snapshots.retention.minimum = 1),
    message: /snapshots\.retention\.minimum: got 0, expected snapshots from 1 to 100/,
  },
  {
    name: 'retention that alone would fill the quota',
    env: 'prod',
    broken: (c) => (c.snapshots.retention = { daily: 35, weekly: 20, monthly: 24, minimum: 4 }),
    fixed: (c) => (c.snapshots.retention = { daily: 35, weekly: 12, monthly: 24, minimum: 4 }),
    message:
      /snapshots\.retention: got \{.*\}, expected daily \+ weekly \+ monthly \+ minimum below the quota alarm threshold \(80 = 80% of 100\); got 83/,
  },
  {
    name: 'copy retention that alone would fill the copy region quota',
    env: 'prod',
    broken: (c) => (c.snapshots.copy.retention = { daily: 60, weekly: 20 }),
    fixed: (c) => (c.snapshots.copy.retention = { daily: 30, weekly: 20 }),
    message:
      /snapshots\.copy\.retention: got \{.*\}, expected daily \+ weekly \+ monthly \+ minimum below the quota alarm threshold/,
  },
  {
    name: 'quota alarm above 100%',
    env: 'dev',
    broken: (c) => (c.snapshots.quota = { alarmPercent: 120 }),
    fixed: (c) => (c.snapshots.quota = { alarmPercent: 90 }),
    message: /snapshots\.quota\.alarmPercent: got 120, expected percent from 1 to 100/,
  },
  {
    name: 'grace of zero minutes',
    env: 'dev',
    broken: (c) => (c.snapshots.graceMinutes = 0),
    fixed: (c) => (c.snapshots.graceMinutes = 5),
    message: /snapshots\.graceMinutes: got 0, expected minutes from 5 to 1440/,
  },
  {
    name: 'copy into the environment’s own region',
    env: 'prod',
    broken: (c) => {
      c.snapshots.copy.region = 'us-east-1';
      c.snapshots.copy.kmsKeyArn = PROD_KEY.replace('us-west-2', 'us-east-1');
    },
    fixed: (c) => {
      c.snapshots.copy.region = 'eu-west-1';
      c.snapshots.copy.kmsKeyArn = PROD_KEY.replace('us-west-2', 'eu-west-1');
    },
    message:
      /snapshots\.copy\.region: got "us-east-1", expected a region other than the environment's own \(us-east-1\)/,
  },
  {
    name: 'copy key in another region than the copy',
    env: 'prod',
    broken: (c) => (c.snapshots.copy.kmsKeyArn = PROD_KEY.replace('us-west-2', 'us-east-1')),
    fixed: (c) => (c.snapshots.copy.kmsKeyArn = PROD_KEY),
    message:
      /snapshots\.copy\.kmsKeyArn: got "arn:aws:kms:us-east-1:.*", expected a KMS key in the copy region us-west-2/,
  },
  {
    name: 'copy key that is an alias, not a key ARN',
    env: 'prod',
    broken: (c) => (c.snapshots.copy.kmsKeyArn = 'alias/snapshots'),
    fixed: (c) => (c.snapshots.copy.kmsKeyArn = PROD_KEY),
    message: /snapshots\.copy\.kmsKeyArn: got "alias\/snapshots", expected a KMS key ARN/,
  },
  {
    name: 'a database created in prod without deletion protection (its final snapshot could be skipped)',
    env: 'prod',
    broken: (c) => (c.database = { ...CREATED_PROD_DB, deletionProtection: false }),
    fixed: (c) => (c.database = CREATED_PROD_DB),
    message: /database\.deletionProtection: got false, expected true in prod/,
  },
  {
    name: 'a database created in prod that is destroyed with its stack (no final snapshot)',
    env: 'prod',
    broken: (c) => (c.database = { ...CREATED_PROD_DB, deletionProtection: false, removalPolicy: 'destroy' }),
    fixed: (c) => (c.database = { ...CREATED_PROD_DB, removalPolicy: 'retain' }),
    message: /database\.removalPolicy: got "destroy", expected snapshot or retain in prod/,
  },
  {
    name: 'unknown field in the section',
    env: 'dev',
    broken: (c) => (c.snapshots.retentionDays = 7),
    fixed: (c) => delete c.snapshots.retentionDays,
    message: /snapshots: unknown field\(s\) "retentionDays"/,
  },
];

describe('snapshots config validation', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('rejects %s, and accepts the fixed twin', (_name, c) => {
    const broken = cloneRaw(rawConfig(c.env));
    c.broken(broken);
    expect(() => validateConfig(c.env, broken)).toThrow(c.message);
    expect(() => validateConfig(c.env, broken)).toThrow(new RegExp(`environment "${c.env}"`));

    const fixed = cloneRaw(rawConfig(c.env));
    c.fixed(fixed);
    expect(() => validateConfig(c.env, fixed)).not.toThrow();
  });

  it('fills every default for an environment that leaves the section out', () => {
    const raw = cloneRaw(rawConfig('staging'));
    delete (raw as { snapshots?: unknown }).snapshots;
    expect(validateConfig('staging', raw).snapshots).toEqual({
      enabled: true,
      schedule: 'rate(1 day)',
      graceMinutes: 60,
      retention: { daily: 7, weekly: 4, monthly: 6, minimum: 3, preShiftDays: 14, maxDeletionsPerRun: 20 },
      quota: { limit: 100, alarmPercent: 80 },
      waitTimeoutMinutes: 60,
    });
  });

  it('gives prod a frequent schedule and a copy in another region; dev daily without copy', () => {
    const prod = loadConfig('prod').snapshots;
    expect(snapshotIntervalMinutes(prod)).toBeLessThanOrEqual(360);
    expect(prod.copy?.region).toBe('us-west-2');
    expect(prod.retention).toMatchObject({ daily: 7, weekly: 4, monthly: 6 });
    const dev = loadConfig('dev').snapshots;
    expect(snapshotIntervalMinutes(dev)).toBe(1440);
    expect(dev.copy).toBeUndefined();
  });
});

describe('parseSchedule', () => {
  it.each([
    ['rate(1 hour)', 60],
    ['rate(6 hours)', 360],
    ['rate(1 day)', 1440],
    ['rate(90 minutes)', 90],
    ['cron(0 */6 * * ? *)', 360],
    ['cron(0 3 * * ? *)', 1440],
    ['cron(15 1,13 * * ? *)', 720],
    ['cron(0 8-20/4 * * ? *)', 720],
  ])('%s fires at most every %i minutes', (expression, minutes) => {
    expect(parseSchedule(expression)).toEqual({
      ok: true,
      kind: expression.slice(0, 4),
      intervalMinutes: minutes,
    });
  });

  it.each([
    'rate(1 hours)',
    'rate(0 days)',
    'rate(1 week)',
    'every day',
    'cron(61 3 * * ? *)',
    'cron(0 24 * * ? *)',
    'cron(0 3 ? * ? *)',
  ])('rejects %s', (expression) => {
    expect(parseSchedule(expression)).toEqual({ ok: false });
  });

  it('has no derived interval for a cron on some days, and takes the explicit one', () => {
    expect(parseSchedule('cron(0 3 1 * ? *)')).toEqual({ ok: true, kind: 'cron' });
    const cfg = snapshotsSchema.parse({ schedule: 'cron(0 3 1 * ? *)', maxIntervalMinutes: 31 * 1440 });
    expect(snapshotIntervalMinutes(cfg)).toBe(31 * 1440);
  });
});
