import { ConfigError, rawConfig, validateConfig } from '../../../lib/config';
import { cloneRaw } from '../../support/app';

/** Each rule of the `checks` section: a broken config with its message, and a fixed twin that passes. */
interface Case {
  readonly name: string;
  readonly broken: (c: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly fixed: (c: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly message: RegExp;
}

const CUSTOM = {
  name: 'orphans',
  sql: 'SELECT count(*) FROM box_score_teams',
  max: 0,
  description: 'orphan rows',
};

const CASES: Case[] = [
  {
    name: 'hostile table name',
    broken: (c) => (c.checks.tables[0].table = 'games"; DROP TABLE games; --'),
    fixed: (c) => (c.checks.tables[0].table = 'games'),
    message:
      /checks\.tables\[0\]\.table: got "games\\"; DROP TABLE games; --", expected a lower-case PostgreSQL identifier/,
  },
  {
    name: 'upper-case schema name',
    broken: (c) => (c.checks.tables[0].schemaName = 'Public'),
    fixed: (c) => (c.checks.tables[0].schemaName = 'public'),
    message: /checks\.tables\[0\]\.schemaName: got "Public", expected a lower-case PostgreSQL identifier/,
  },
  {
    name: 'freshness column with a quote',
    broken: (c) => (c.checks.freshness[0].column = 'created"at'),
    fixed: (c) => (c.checks.freshness[0].column = 'created_at'),
    message:
      /checks\.freshness\[0\]\.column: got "created\\"at", expected a lower-case PostgreSQL identifier/,
  },
  {
    name: 'negative floor',
    broken: (c) => (c.checks.tables[0].minRows = -1),
    fixed: (c) => (c.checks.tables[0].minRows = 0),
    message: /checks\.tables\[0\]\.minRows: got -1, expected an integer row count >= 0/,
  },
  {
    name: 'table listed twice',
    broken: (c) => c.checks.tables.push({ table: 'games' }),
    fixed: (c) => c.checks.tables.push({ table: 'games', schemaName: 'archive' }),
    message: /checks\.tables\[5\]\.table: got "games", expected each table listed once/,
  },
  {
    name: 'freshness table listed twice',
    broken: (c) => c.checks.freshness.push({ ...c.checks.freshness[0] }),
    fixed: (c) => c.checks.freshness.push({ ...c.checks.freshness[0], table: 'other_snapshots' }),
    message:
      /checks\.freshness\[2\]\.table: got "dims_metrics_snapshots", expected each table listed once in freshness/,
  },
  {
    name: 'errorAfter not after warnAfter',
    broken: (c) => (c.checks.freshness[0].errorAfterMinutes = 720),
    fixed: (c) => (c.checks.freshness[0].errorAfterMinutes = 721),
    message:
      /checks\.freshness\[0\]\.errorAfterMinutes: got 720, expected a value greater than warnAfterMinutes \(720\)/,
  },
  {
    name: 'schedule of zero minutes',
    broken: (c) => (c.checks.scheduleMinutes = 0),
    fixed: (c) => (c.checks.scheduleMinutes = 1),
    message: /checks\.scheduleMinutes: got 0, expected from 1 to 1440 minutes/,
  },
  {
    name: 'malformed read-only secret ARN',
    broken: (c) => (c.checks.credentialsSecretArn = 'arn:aws:s3:::bucket'),
    fixed: (c) =>
      (c.checks.credentialsSecretArn = 'arn:aws:secretsmanager:us-east-1:333333333333:secret:ro-AbCdEf'),
    message: /checks\.credentialsSecretArn: got "arn:aws:s3:::bucket", expected a Secrets Manager secret ARN/,
  },
  {
    name: 'statement timeout out of range',
    broken: (c) => (c.checks.statementTimeoutSeconds = 0),
    fixed: (c) => (c.checks.statementTimeoutSeconds = 1),
    message: /checks\.statementTimeoutSeconds: got 0, expected from 1 to 600 seconds/,
  },
  {
    name: 'statement timeout not shorter than the schedule interval',
    broken: (c) => (c.checks.statementTimeoutSeconds = 60),
    fixed: (c) => (c.checks.statementTimeoutSeconds = 59),
    message: /checks\.statementTimeoutSeconds: got 60, expected less than the schedule interval \(60 s\)/,
  },
  {
    name: 'lock timeout out of range',
    broken: (c) => (c.checks.lockTimeoutSeconds = 61),
    fixed: (c) => (c.checks.lockTimeoutSeconds = 60),
    message: /checks\.lockTimeoutSeconds: got 61, expected from 1 to 60 seconds/,
  },
  {
    name: 'custom check name not kebab-case',
    broken: (c) => (c.checks.custom = [{ ...CUSTOM, name: 'Orphan Rows' }]),
    fixed: (c) => (c.checks.custom = [{ ...CUSTOM, name: 'orphan-rows' }]),
    message: /checks\.custom\[0\]\.name: got "Orphan Rows", expected a kebab-case name/,
  },
  {
    name: 'custom SQL that is not a SELECT',
    broken: (c) => (c.checks.custom = [{ ...CUSTOM, sql: 'DELETE FROM games' }]),
    fixed: (c) => (c.checks.custom = [{ ...CUSTOM, sql: 'WITH x AS (SELECT 1) SELECT count(*) FROM x' }]),
    message:
      /checks\.custom\[0\]\.sql: got "DELETE FROM games", expected a single SELECT or WITH \.\.\. SELECT statement/,
  },
  {
    name: 'custom SQL with two statements',
    broken: (c) => (c.checks.custom = [{ ...CUSTOM, sql: 'SELECT 1; DROP TABLE games' }]),
    fixed: (c) => (c.checks.custom = [{ ...CUSTOM, sql: 'SELECT 1;' }]),
    message: /checks\.custom\[0\]\.sql: got "SELECT 1; DROP TABLE games", expected a single statement/,
  },
  {
    name: 'custom check without bounds',
    broken: (c) => (c.checks.custom = [{ ...CUSTOM, max: undefined }]),
    fixed: (c) => (c.checks.custom = [{ ...CUSTOM, max: undefined, min: 1 }]),
    message: /checks\.custom\[0\]\.min: got nothing \(missing\), expected min or max \(or both\)/,
  },
  {
    name: 'custom check with max below min',
    broken: (c) => (c.checks.custom = [{ ...CUSTOM, min: 5, max: 1 }]),
    fixed: (c) => (c.checks.custom = [{ ...CUSTOM, min: 1, max: 5 }]),
    message: /checks\.custom\[0\]\.max: got 1, expected a value >= min \(5\)/,
  },
  {
    name: 'two custom checks with one name',
    broken: (c) => (c.checks.custom = [CUSTOM, CUSTOM]),
    fixed: (c) => (c.checks.custom = [CUSTOM, { ...CUSTOM, name: 'orphans-2' }]),
    message: /checks\.custom\[1\]\.name: got "orphans", expected a name not used by another custom check/,
  },
  {
    name: 'custom check without a description',
    broken: (c) => (c.checks.custom = [{ ...CUSTOM, description: '' }]),
    fixed: (c) => (c.checks.custom = [{ ...CUSTOM, description: 'what it means' }]),
    message: /checks\.custom\[0\]\.description: got "", expected a non-empty sentence/,
  },
  {
    name: 'custom check severity',
    broken: (c) => (c.checks.custom = [{ ...CUSTOM, severity: 'page' }]),
    fixed: (c) => (c.checks.custom = [{ ...CUSTOM, severity: 'critical' }]),
    message: /checks\.custom\[0\]\.severity: got "page", expected critical or warning/,
  },
  {
    name: 'exact audit faster than the schedule',
    broken: (c) => ((c.checks.scheduleMinutes = 5), (c.checks.exactEveryMinutes = 4)),
    fixed: (c) => ((c.checks.scheduleMinutes = 5), (c.checks.exactEveryMinutes = 5)),
    message: /checks\.exactEveryMinutes: got 4, expected at least scheduleMinutes \(5\)/,
  },
  {
    name: 'exact audit interval not an integer',
    broken: (c) => (c.checks.exactEveryMinutes = 60.5),
    fixed: (c) => (c.checks.exactEveryMinutes = 60),
    message: /checks\.exactEveryMinutes: got 60\.5, expected an integer from 1 to 10080/,
  },
  {
    name: 'exact audit interval beyond a week',
    broken: (c) => (c.checks.exactEveryMinutes = 10081),
    fixed: (c) => (c.checks.exactEveryMinutes = 10080),
    message: /checks\.exactEveryMinutes: got 10081, expected from 1 to 10080 minutes/,
  },
];

describe('checks config validation (prod)', () => {
  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: rejected with a message, fixed twin accepted',
    (_n, c) => {
      const broken = cloneRaw(rawConfig('prod'));
      c.broken(broken);
      expect(() => validateConfig('prod', broken)).toThrow(ConfigError);
      expect(() => validateConfig('prod', broken)).toThrow(c.message);
      expect(() => validateConfig('prod', broken)).toThrow(/Invalid configuration for environment "prod"/);

      const fixed = cloneRaw(rawConfig('prod'));
      c.fixed(fixed);
      expect(() => validateConfig('prod', fixed)).not.toThrow();
    },
  );

  it('fills the defaults', () => {
    const raw = cloneRaw(rawConfig('dev'));
    const cfg = validateConfig('dev', raw).checks;
    expect(cfg).toMatchObject({
      statementTimeoutSeconds: 30,
      lockTimeoutSeconds: 5,
      exactEveryMinutes: 60,
      custom: [],
    });
    expect(cfg.credentialsSecretArn).toBeUndefined();
    expect(cfg.tables[0]).toMatchObject({ schemaName: 'public', noDecrease: true, trackSchema: true });
  });

  it('prod reads every table exactly at least once an hour', () => {
    expect(validateConfig('prod', cloneRaw(rawConfig('prod'))).checks.exactEveryMinutes).toBe(60);
  });
});
