import {
  ConfigError,
  loadConfig,
  rawConfig,
  validateConfig,
  type EnvironmentConfigInput,
} from '../../../lib/config';
import { ENVIRONMENT_NAMES } from '../../../lib/project';

/** A mutation of a valid environment config, the expected error text, and a fixed twin that must pass. */
interface Case {
  readonly name: string;
  readonly env: 'dev' | 'staging' | 'prod';
  readonly broken: (c: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly fixed: (c: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly message: RegExp;
}

const CASES: Case[] = [
  {
    name: 'account that is not 12 digits',
    env: 'prod',
    broken: (c) => (c.account = '12345'),
    fixed: (c) => {
      c.account = '123456789012';
      c.database.credentialsSecretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';
      c.checks.credentialsSecretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ro-AbCdEf';
      c.routing.green.secrets = {
        DATABASE_CREDENTIALS: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pipeline-AbCdEf',
      };
    },
    message: /account: got "12345", expected a 12-digit AWS account id/,
  },
  {
    name: 'malformed region',
    env: 'staging',
    broken: (c) => (c.region = 'us-east'),
    fixed: (c) => (c.region = 'us-east-1'),
    message: /region: got "us-east", expected an AWS region name/,
  },
  {
    name: 'availability zone of another region',
    env: 'staging',
    broken: (c) => (c.network.availabilityZones = ['eu-west-1a', 'us-east-1b']),
    fixed: (c) => (c.network.availabilityZones = ['us-east-1a', 'us-east-1b']),
    message:
      /network\.availabilityZones\[0\]: got "eu-west-1a", expected an availability zone of region us-east-1/,
  },
  {
    name: 'malformed VPC id',
    env: 'prod',
    broken: (c) => (c.network.vpcId = 'vpc-XYZ'),
    fixed: (c) => (c.network.vpcId = 'vpc-0123456789abcdef0'),
    message: /network\.vpcId: got "vpc-XYZ", expected a VPC id/,
  },
  {
    name: 'empty private subnet list',
    env: 'staging',
    broken: (c) => (c.network.privateSubnetIds = []),
    fixed: (c) => (c.network.privateSubnetIds = ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1']),
    message: /network\.privateSubnetIds: got \[\], expected at least one private subnet id/,
  },
  {
    name: 'fewer subnets than availability zones',
    env: 'prod',
    broken: (c) => c.network.privateSubnetIds.pop(),
    fixed: () => undefined,
    message:
      /network\.privateSubnetIds: got \[.*\], expected one private subnet per availability zone \(3 zones given\)/,
  },
  {
    name: 'malformed subnet id',
    env: 'prod',
    broken: (c) => (c.network.privateSubnetIds[1] = 'subnet-1'),
    fixed: (c) => (c.network.privateSubnetIds[1] = 'subnet-0123456789abcdef1'),
    message: /network\.privateSubnetIds\[1\]: got "subnet-1", expected a subnet id/,
  },
  {
    name: 'malformed secret ARN',
    env: 'prod',
    broken: (c) => (c.database.credentialsSecretArn = 'arn:aws:s3:::bucket'),
    fixed: (c) =>
      (c.database.credentialsSecretArn = 'arn:aws:secretsmanager:us-east-1:333333333333:secret:db-AbCdEf'),
    message:
      /database\.credentialsSecretArn: got "arn:aws:s3:::bucket", expected a Secrets Manager secret ARN/,
  },
  {
    name: 'secret in another account',
    env: 'prod',
    broken: (c) =>
      (c.database.credentialsSecretArn = 'arn:aws:secretsmanager:us-east-1:999999999999:secret:db-AbCdEf'),
    fixed: (c) =>
      (c.database.credentialsSecretArn = 'arn:aws:secretsmanager:us-east-1:333333333333:secret:db-AbCdEf'),
    message:
      /database\.credentialsSecretArn: .*expected a secret in this environment's account and region \(333333333333, us-east-1\)/,
  },
  {
    name: 'read-only checks secret in another region',
    env: 'staging',
    broken: (c) =>
      (c.checks.credentialsSecretArn = 'arn:aws:secretsmanager:eu-west-1:222222222222:secret:ro-AbCdEf'),
    fixed: (c) =>
      (c.checks.credentialsSecretArn = 'arn:aws:secretsmanager:us-east-1:222222222222:secret:ro-AbCdEf'),
    message:
      /checks\.credentialsSecretArn: .*expected a secret in this environment's account and region \(222222222222, us-east-1\)/,
  },
  {
    name: 'RDS instance identifier with a double hyphen',
    env: 'prod',
    broken: (c) => (c.database.instanceIdentifier = 'nba--prod'),
    fixed: (c) => (c.database.instanceIdentifier = 'nba-prod'),
    message: /database\.instanceIdentifier: got "nba--prod", expected an RDS instance identifier/,
  },
  {
    name: 'port out of range',
    env: 'staging',
    broken: (c) => (c.database.port = 70000),
    fixed: (c) => (c.database.port = 6432),
    message: /database\.port: got 70000, expected a port from 1 to 65535/,
  },
  {
    name: 'database name that is not a SQL identifier',
    env: 'prod',
    broken: (c) => (c.database.databaseName = 'nba; DROP TABLE games'),
    fixed: (c) => (c.database.databaseName = 'nba_prod'),
    message:
      /database\.databaseName: got "nba; DROP TABLE games", expected a lower-case PostgreSQL identifier/,
  },
  {
    name: 'checked table name that is not a SQL identifier',
    env: 'prod',
    broken: (c) => (c.checks.tables[0].table = 'games"; --'),
    fixed: (c) => (c.checks.tables[0].table = 'games_v2'),
    message: /checks\.tables\[0\]\.table: got "games\\"; --", expected a lower-case PostgreSQL identifier/,
  },
  {
    name: 'negative row floor',
    env: 'prod',
    broken: (c) => (c.checks.tables[1].minRows = -1),
    fixed: (c) => (c.checks.tables[1].minRows = 0),
    message: /checks\.tables\[1\]\.minRows: got -1, expected an integer row count >= 0/,
  },
  {
    name: 'freshness thresholds inverted',
    env: 'prod',
    broken: (c) => (c.checks.freshness[0].errorAfterMinutes = 60),
    fixed: (c) => (c.checks.freshness[0].errorAfterMinutes = 721),
    message:
      /checks\.freshness\[0\]\.errorAfterMinutes: got 60, expected a value greater than warnAfterMinutes \(720\)/,
  },
  {
    name: 'same table listed twice',
    env: 'staging',
    broken: (c) => c.checks.tables.push({ table: 'games' }),
    fixed: (c) => c.checks.tables.push({ table: 'teams' }),
    message: /checks\.tables\[5\]\.table: got "games", expected each table listed once/,
  },
  {
    name: 'schedule of zero minutes',
    env: 'dev',
    broken: (c) => (c.checks.scheduleMinutes = 0),
    fixed: (c) => (c.checks.scheduleMinutes = 1),
    message: /checks\.scheduleMinutes: got 0, expected from 1 to 1440 minutes/,
  },
  {
    name: 'prod without a critical subscriber',
    env: 'prod',
    broken: (c) => (c.alerting.criticalSubscriptions = []),
    fixed: (c) => (c.alerting.criticalSubscriptions = [{ protocol: 'sms', endpoint: '+15555550100' }]),
    message: /alerting\.criticalSubscriptions: got \[\], expected at least one critical subscriber in prod/,
  },
  {
    name: 'subscription endpoint that is not an e-mail address',
    env: 'staging',
    broken: (c) => (c.alerting.warningSubscriptions = [{ protocol: 'email', endpoint: 'oncall' }]),
    fixed: (c) => (c.alerting.warningSubscriptions = [{ protocol: 'email', endpoint: 'oncall@example.com' }]),
    message: /alerting\.warningSubscriptions\[0\]\.endpoint: got "oncall", expected an e-mail address/,
  },
  {
    name: 'deletion protection together with removal policy destroy',
    env: 'dev',
    broken: (c) => (c.database.deletionProtection = true),
    fixed: (c) => {
      c.database.deletionProtection = true;
      c.database.removalPolicy = 'snapshot';
    },
    message:
      /database\.removalPolicy: got "destroy", expected snapshot or retain when deletionProtection is true/,
  },
  {
    name: 'storage ceiling below allocated storage',
    env: 'dev',
    broken: (c) => (c.database.maxAllocatedStorageGiB = 10),
    fixed: (c) => (c.database.maxAllocatedStorageGiB = 20),
    message: /database\.maxAllocatedStorageGiB: got 10, expected a value >= allocatedStorageGiB \(20\)/,
  },
  {
    name: 'unknown database mode',
    env: 'dev',
    broken: (c) => (c.database.mode = 'clone'),
    fixed: (c) => (c.database.mode = 'create'),
    message: /database\.mode: got "clone", expected mode "existing" .* or "create"/,
  },
  {
    name: 'log retention the service does not accept',
    env: 'staging',
    broken: (c) => (c.logRetentionDays = 10),
    fixed: (c) => (c.logRetentionDays = 14),
    message: /logRetentionDays: got 10, expected one of the CloudWatch Logs retention values/,
  },
  {
    name: 'unknown field (a typo)',
    env: 'prod',
    broken: (c) => (c.checks.tabels = []),
    fixed: () => undefined,
    message: /checks: unknown field\(s\) "tabels"/,
  },
  {
    name: 'reserved tag key',
    env: 'staging',
    broken: (c) => (c.tags = { Environment: 'x' }),
    fixed: (c) => (c.tags = { Team: 'x' }),
    message: /tags: got \{"Environment":"x"\}, expected no Environment or Project key/,
  },
];

describe('environment config validation', () => {
  it.each(ENVIRONMENT_NAMES)('the committed %s config is valid', (name) => {
    expect(loadConfig(name).envName).toBe(name);
  });

  it('has at least 15 invalid-config cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(15);
  });

  describe.each(CASES)('$name', ({ env, broken, fixed, message }) => {
    it('fails naming the environment, field, value and expectation', () => {
      const raw = structuredClone(rawConfig(env)) as EnvironmentConfigInput;
      broken(raw);
      expect(() => validateConfig(env, raw)).toThrow(ConfigError);
      expect(() => validateConfig(env, raw)).toThrow(new RegExp(`environment "${env}"`));
      expect(() => validateConfig(env, raw)).toThrow(message);
    });

    it('passes once fixed (its twin)', () => {
      const raw = structuredClone(rawConfig(env)) as EnvironmentConfigInput;
      fixed(raw);
      expect(() => validateConfig(env, raw)).not.toThrow();
    });
  });

  it('reports every problem at once', () => {
    const raw = structuredClone(rawConfig('prod')) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    raw.account = 'x';
    raw.region = 'y';
    raw.database.port = -1;
    let error: ConfigError | undefined;
    try {
      validateConfig('prod', raw);
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.problems).toEqual([
      expect.stringMatching(/^account: got "x"/),
      expect.stringMatching(/^region: got "y"/),
      expect.stringMatching(/^database\.port: got -1/),
    ]);
    expect(error?.message).toMatch(/3 problems/);
  });

  it('refuses an unknown environment, listing the known ones', () => {
    expect(() => loadConfig('qa')).toThrow(/"qa".*expected one of dev, staging, prod/);
    expect(() => loadConfig(undefined)).toThrow(/no environment given, expected one of dev, staging, prod/);
  });

  it('refuses a config loaded under another name', () => {
    expect(() => validateConfig('staging', rawConfig('prod'))).toThrow(
      /envName: got "prod", expected "staging"/,
    );
  });

  it('pre-fills prod with the production floors and freshness tables', () => {
    const prod = loadConfig('prod');
    const floors = Object.fromEntries(prod.checks.tables.map((t) => [t.table, t.minRows]));
    expect(floors).toEqual({
      games: 44_828,
      play_by_play: 6_781_155,
      hoopr_play_by_play: 13_074_829,
      box_score_players: 408_833,
      box_score_teams: 15_900,
    });
    expect(prod.checks.freshness.map((f) => [f.table, f.errorAfterMinutes])).toEqual([
      ['dims_metrics_snapshots', 1440],
      ['box_score_snapshots', 1440],
    ]);
  });
});
