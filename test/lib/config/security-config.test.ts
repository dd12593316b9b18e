import { ConfigError, rawConfig, validateConfig } from '../../../lib/config';
import { rdsEndpointRegion, sameSecret } from '../../../lib/config/consistency';

/* eslint-disable @typescript-eslint/no-explicit-any -- raw configs are mutated field by field */
interface Case {
  readonly name: string;
  readonly env: 'dev' | 'staging' | 'prod';
  readonly broken: (c: any) => void;
  readonly fixed: (c: any) => void;
  readonly message: RegExp;
  /** Messages that must NOT appear (the fields that would be wrongly blamed). */
  readonly notBlamed?: RegExp;
}

const PROD_SECRET = (name: string, account = '333333333333', region = 'us-east-1') =>
  `arn:aws:secretsmanager:${region}:${account}:secret:nba-analytics-prod/${name}-AbCdEf`;

const WEB_ACL = (region: string) =>
  `arn:aws:wafv2:${region}:333333333333:regional/webacl/edge/0f0e0d0c-3333-4333-8333-333333333333`;

const CASES: Case[] = [
  {
    name: 'an RDS endpoint in another region than `region`',
    env: 'prod',
    broken: (c) => (c.database.endpoint = 'nba-analytics-prod.c1a2b3c4d5e6.us-west-2.rds.amazonaws.com'),
    fixed: (c) => (c.database.endpoint = 'nba-analytics-prod.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com'),
    message:
      /database\.endpoint: got "nba-analytics-prod\.c1a2b3c4d5e6\.us-west-2\.rds\.amazonaws\.com", expected an RDS endpoint in this environment's region \(us-east-1\)/,
  },
  {
    name: 'the prod green service given a secret from another account',
    env: 'prod',
    broken: (c) =>
      (c.routing.green.secrets = { DATABASE_CREDENTIALS: PROD_SECRET('unified-pipeline', '444444444444') }),
    fixed: (c) => (c.routing.green.secrets = { DATABASE_CREDENTIALS: PROD_SECRET('unified-pipeline') }),
    message:
      /routing\.green\.secrets\.DATABASE_CREDENTIALS: got "arn:aws:secretsmanager:us-east-1:444444444444:.*", expected a secret in this environment's account and region \(333333333333, us-east-1\)/,
  },
  {
    name: 'a service secret in another region (the { secretArn, field } form)',
    env: 'staging',
    broken: (c) =>
      (c.routing.blue.secrets = {
        DB_PASSWORD: {
          secretArn: 'arn:aws:secretsmanager:us-west-2:222222222222:secret:monolith-AbCdEf',
          field: 'password',
        },
      }),
    fixed: (c) =>
      (c.routing.blue.secrets = {
        DB_PASSWORD: {
          secretArn: 'arn:aws:secretsmanager:us-east-1:222222222222:secret:monolith-AbCdEf',
          field: 'password',
        },
      }),
    message:
      /routing\.blue\.secrets\.DB_PASSWORD: got ".*us-west-2.*", expected a secret in this environment's account and region/,
  },
  {
    name: "a service given the database's admin secret",
    env: 'prod',
    broken: (c) => (c.routing.green.secrets = { DATABASE_CREDENTIALS: PROD_SECRET('admin') }),
    fixed: (c) => (c.routing.green.secrets = { DATABASE_CREDENTIALS: PROD_SECRET('unified-pipeline') }),
    message:
      /routing\.green\.secrets\.DATABASE_CREDENTIALS: got ".*nba-analytics-prod\/admin-AbCdEf", expected a secret of the green service's own database user, not the admin secret/,
  },
  {
    name: 'a service given the admin secret by its partial ARN (no suffix)',
    env: 'staging',
    broken: (c) =>
      (c.routing.green.secrets = {
        DATABASE_CREDENTIALS:
          'arn:aws:secretsmanager:us-east-1:222222222222:secret:nba-analytics-staging/admin',
      }),
    fixed: (c) =>
      (c.routing.green.secrets = {
        DATABASE_CREDENTIALS:
          'arn:aws:secretsmanager:us-east-1:222222222222:secret:nba-analytics-staging/unified-pipeline',
      }),
    message:
      /routing\.green\.secrets\.DATABASE_CREDENTIALS: .*expected a secret of the green service's own database user/,
  },
  {
    name: 'a public subnet id reused as a private one',
    env: 'prod',
    broken: (c) => (c.network.publicSubnetIds[1] = c.network.privateSubnetIds[1]),
    fixed: (c) => (c.network.publicSubnetIds[1] = 'subnet-0a1b2c3d4e5f60035'),
    message:
      /network\.publicSubnetIds\[1\]: got "subnet-0a1b2c3d4e5f60032", expected a subnet not also listed in privateSubnetIds/,
  },
  {
    name: 'a private subnet listed twice',
    env: 'staging',
    broken: (c) => (c.network.privateSubnetIds = ['subnet-0a1b2c3d4e5f60021', 'subnet-0a1b2c3d4e5f60021']),
    fixed: (c) => (c.network.privateSubnetIds = ['subnet-0a1b2c3d4e5f60021', 'subnet-0a1b2c3d4e5f60022']),
    message:
      /network\.privateSubnetIds\[1\]: got "subnet-0a1b2c3d4e5f60021", expected subnet ids listed once each/,
  },
  {
    name: 'a region typo that is not a region',
    env: 'staging',
    broken: (c) => (c.region = 'us-esat-1'),
    fixed: (c) => (c.region = 'us-east-1'),
    message: /region: got "us-esat-1", expected a known AWS region such as us-east-1/,
    notBlamed: /availabilityZones|credentialsSecretArn|certificateArn|endpoint/,
  },
  {
    name: 'a region typo naming another real region',
    env: 'prod',
    broken: (c) => (c.region = 'us-east-2'),
    fixed: (c) => (c.region = 'us-east-1'),
    message:
      /region: got "us-east-2", expected us-east-1, the region every availability zone and regional ARN of this config names/,
    notBlamed: /availabilityZones\[|credentialsSecretArn:|certificateArn:|endpoint:|secrets\./,
  },
  {
    name: 'an internet-facing load balancer on plain HTTP',
    env: 'dev',
    broken: (c) => (c.routing.loadBalancer = { internetFacing: true, allowPlainHttp: true }),
    fixed: (c) =>
      (c.routing.loadBalancer = {
        internetFacing: false,
        allowPlainHttp: true,
        ingressCidrs: ['10.40.0.0/16'],
      }),
    message:
      /routing\.loadBalancer\.allowPlainHttp: got true, expected false for an internet-facing load balancer/,
  },
  {
    name: "prod's internet-facing load balancer without a web ACL",
    env: 'prod',
    broken: (c) => (c.routing.loadBalancer.waf = 'none'),
    fixed: (c) => (c.routing.loadBalancer.waf = 'managed'),
    message: /routing\.loadBalancer\.waf: got "none", expected managed, or a wafWebAclArn/,
  },
  {
    name: 'both a waf setting and an existing web ACL',
    env: 'prod',
    broken: (c) => {
      c.routing.loadBalancer.waf = 'managed';
      c.routing.loadBalancer.wafWebAclArn = WEB_ACL('us-east-1');
    },
    fixed: (c) => delete c.routing.loadBalancer.waf,
    message: /routing\.loadBalancer\.waf: got "managed", expected no waf setting when wafWebAclArn/,
  },
  {
    name: 'an existing web ACL of another region',
    env: 'prod',
    broken: (c) => (c.routing.loadBalancer.wafWebAclArn = WEB_ACL('us-west-2')),
    fixed: (c) => (c.routing.loadBalancer.wafWebAclArn = WEB_ACL('us-east-1')),
    message:
      /routing\.loadBalancer\.wafWebAclArn: got ".*us-west-2.*", expected a regional web ACL in this environment's account and region/,
  },
];

describe('security config validation (issue 16)', () => {
  describe.each(CASES)('$name', ({ env, broken, fixed, message, notBlamed }) => {
    it('fails naming the environment, field, value and expectation', () => {
      const raw = structuredClone(rawConfig(env));
      broken(raw);
      let error: unknown;
      try {
        validateConfig(env, raw);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).message;
      expect(text).toContain(`Invalid configuration for environment "${env}"`);
      expect(text).toMatch(message);
      const others = (error as ConfigError).problems.filter((p) => !p.startsWith('region:'));
      expect(others.filter((p) => notBlamed?.test(p) ?? false)).toEqual([]);
    });

    it('passes once fixed (its twin)', () => {
      const raw = structuredClone(rawConfig(env));
      broken(raw);
      fixed(raw);
      expect(() => validateConfig(env, raw)).not.toThrow();
    });
  });

  it('reads the region of standard RDS endpoints only', () => {
    expect(rdsEndpointRegion('db.abc.eu-central-1.rds.amazonaws.com')).toBe('eu-central-1');
    expect(rdsEndpointRegion('db.abc.cn-north-1.rds.amazonaws.com.cn')).toBe('cn-north-1');
    expect(rdsEndpointRegion('db.internal.example.com')).toBeUndefined();
  });

  it('compares complete and partial secret ARNs', () => {
    const full = 'arn:aws:secretsmanager:us-east-1:1:secret:a/admin-AbCdEf';
    expect(sameSecret(full, 'arn:aws:secretsmanager:us-east-1:1:secret:a/admin')).toBe(true);
    expect(sameSecret(full, full)).toBe(true);
    expect(sameSecret(full, 'arn:aws:secretsmanager:us-east-1:1:secret:a/admin-other')).toBe(false);
    expect(sameSecret('arn:aws:secretsmanager:us-east-1:1:secret:a/ad', full)).toBe(false);
  });
});
