import { rawConfig, validateConfig } from '../../../lib/config';
import { SANDBOX_IMAGE } from '../../../lib/config/sections/routing';

/** A mutation of a valid environment's routing section, the expected error, and a fixed twin that passes. */
interface Case {
  readonly name: string;
  readonly env: 'dev' | 'staging' | 'prod';
  readonly broken: (r: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly fixed: (r: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly message: RegExp;
}

const CASES: Case[] = [
  {
    name: 'a minimum of requests per minute that is not a positive integer',
    env: 'prod',
    broken: (r) => (r.serviceLevels = { ...r.serviceLevels, minRequestsPerMinute: 0 }),
    fixed: (r) => (r.serviceLevels = { ...r.serviceLevels, minRequestsPerMinute: 5 }),
    message:
      /routing\.serviceLevels\.minRequestsPerMinute: got 0, expected a positive number of requests per minute/,
  },
  {
    name: 'a negative minimum of requests per step',
    env: 'staging',
    broken: (r) => (r.minRequestsPerStep = -1),
    fixed: (r) => (r.minRequestsPerStep = 0),
    message: /routing\.minRequestsPerStep: got -1, expected at least 0/,
  },
  {
    name: 'an evidence wait longer than 6 hours',
    env: 'prod',
    broken: (r) => (r.evidenceWaitSeconds = 86400),
    fixed: (r) => (r.evidenceWaitSeconds = 3600),
    message: /routing\.evidenceWaitSeconds: got 86400, expected at most 21600 \(6h\)/,
  },
  {
    name: 'initial weights that do not sum to 100',
    env: 'prod',
    broken: (r) => (r.initialWeights = { blue: 90, green: 20 }),
    fixed: (r) => (r.initialWeights = { blue: 80, green: 20 }),
    message: /routing\.initialWeights: got \{"blue":90,"green":20\}, expected blue \+ green = 100/,
  },
  {
    name: 'a fractional weight',
    env: 'prod',
    broken: (r) => (r.initialWeights = { blue: 99.5, green: 0.5 }),
    fixed: (r) => (r.initialWeights = { blue: 99, green: 1 }),
    message: /routing\.initialWeights\.blue: got 99\.5, expected an integer from 0 to 100/,
  },
  {
    name: 'a weight above 100',
    env: 'staging',
    broken: (r) => (r.initialWeights = { blue: 110, green: -10 }),
    fixed: (r) => (r.initialWeights = { blue: 100, green: 0 }),
    message: /routing\.initialWeights\.blue: got 110, expected from 0 to 100/,
  },
  {
    name: 'memory that is not a Fargate size for the CPU',
    env: 'prod',
    broken: (r) => (r.green.memory = 1024),
    fixed: (r) => (r.green.memory = 3072),
    message:
      /routing\.green\.memory: got 1024, expected a Fargate memory size for 1024 CPU units \(2048-8192 MiB in steps of 1024\)/,
  },
  {
    name: 'CPU units Fargate does not offer',
    env: 'staging',
    broken: (r) => (r.blue.cpu = 300),
    fixed: (r) => (r.blue.cpu = 256),
    message: /routing\.blue\.cpu: got 300, expected Fargate CPU units: 256, 512/,
  },
  {
    name: 'an image pinned to latest',
    env: 'prod',
    broken: (r) =>
      (r.green.image = '333333333333.dkr.ecr.us-east-1.amazonaws.com/nba-unified-pipeline:latest'),
    fixed: (r) =>
      (r.green.image = '333333333333.dkr.ecr.us-east-1.amazonaws.com/nba-unified-pipeline:2026.11.4'),
    message: /routing\.green\.image: got ".*:latest", expected an image pinned to a tag other than latest/,
  },
  {
    name: 'an image without a tag',
    env: 'dev',
    broken: (r) => (r.blue.image = 'public.ecr.aws/nginx/nginx'),
    fixed: (r) => (r.blue.image = 'public.ecr.aws/nginx/nginx:1.27-alpine'),
    message:
      /routing\.blue\.image: got "public\.ecr\.aws\/nginx\/nginx", expected a container image with an explicit tag or digest/,
  },
  {
    name: 'a malformed certificate ARN',
    env: 'prod',
    broken: (r) => (r.loadBalancer.certificateArn = 'arn:aws:iam::333333333333:server-certificate/x'),
    fixed: (r) =>
      (r.loadBalancer.certificateArn =
        'arn:aws:acm:us-east-1:333333333333:certificate/11111111-2222-4333-8444-555555555555'),
    message: /routing\.loadBalancer\.certificateArn: got "arn:aws:iam::.*", expected an ACM certificate ARN/,
  },
  {
    name: 'neither a certificate nor plain HTTP allowed',
    env: 'dev',
    broken: (r) => (r.loadBalancer.allowPlainHttp = false),
    fixed: (r) =>
      Object.assign(r.loadBalancer, {
        allowPlainHttp: false,
        certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-4333-8444-555555555555',
      }),
    message:
      /routing\.loadBalancer\.certificateArn: got nothing \(missing\), expected an ACM certificate ARN for the HTTPS listener, or allowPlainHttp: true/,
  },
  {
    name: 'plain HTTP together with a certificate',
    env: 'prod',
    broken: (r) => (r.loadBalancer.allowPlainHttp = true),
    fixed: (r) => (r.loadBalancer.allowPlainHttp = false),
    message:
      /routing\.loadBalancer\.allowPlainHttp: got true, expected false when a certificateArn is given \(port 80 then redirects to HTTPS\)/,
  },
  {
    name: 'an internal load balancer nobody may reach',
    env: 'staging',
    broken: (r) => delete r.loadBalancer.ingressCidrs,
    fixed: (r) => (r.loadBalancer.ingressCidrs = ['10.20.0.0/16']),
    message:
      /routing\.loadBalancer\.ingressCidrs: got nothing \(missing\), expected at least one CIDR block for an internal load balancer/,
  },
  {
    name: 'a malformed ingress CIDR',
    env: 'staging',
    broken: (r) => (r.loadBalancer.ingressCidrs = ['10.0.0.0']),
    fixed: (r) => (r.loadBalancer.ingressCidrs = ['10.0.0.0/8']),
    message: /routing\.loadBalancer\.ingressCidrs\[0\]: got "10\.0\.0\.0", expected an IPv4 CIDR block/,
  },
  {
    name: 'a secret that is not a Secrets Manager ARN',
    env: 'prod',
    broken: (r) =>
      (r.green.secrets = { DATABASE_CREDENTIALS: 'arn:aws:ssm:us-east-1:333333333333:parameter/x' }),
    fixed: (r) =>
      (r.green.secrets = {
        DATABASE_CREDENTIALS: {
          secretArn:
            'arn:aws:secretsmanager:us-east-1:333333333333:secret:nba-analytics-prod/unified-pipeline-AbCdEf',
          field: 'password',
        },
      }),
    message:
      /routing\.green\.secrets\.DATABASE_CREDENTIALS: got ".*parameter\/x", expected a Secrets Manager secret ARN/,
  },
  {
    name: 'a variable both plain and secret',
    env: 'prod',
    broken: (r) => (r.green.environment = { DATABASE_CREDENTIALS: 'x' }),
    fixed: (r) => (r.green.environment = { PIPELINE_MODE: 'unified' }),
    message:
      /routing\.green\.secrets\.DATABASE_CREDENTIALS: got "DATABASE_CREDENTIALS", expected a name not also given in environment/,
  },
  {
    name: 'an environment variable name with a dash',
    env: 'dev',
    broken: (r) => (r.green.environment = { 'PIPELINE-COLOR': 'green' }),
    fixed: (r) => (r.green.environment = { PIPELINE_COLOUR: 'green' }),
    message:
      /routing\.green\.environment\.PIPELINE-COLOR: got "PIPELINE-COLOR", expected environment variable names/,
  },
  {
    name: 'a health-check path without a leading slash',
    env: 'prod',
    broken: (r) => (r.blue.healthCheckPath = 'healthz'),
    fixed: (r) => (r.blue.healthCheckPath = '/healthz'),
    message: /routing\.blue\.healthCheckPath: got "healthz", expected a URL path starting with \//,
  },
  {
    name: 'a service with no task',
    env: 'staging',
    broken: (r) => (r.green.desiredCount = 0),
    fixed: (r) => (r.green.desiredCount = 1),
    message: /routing\.green\.desiredCount: got 0, expected from 1 to 100 tasks/,
  },
  {
    name: 'an unknown snapshot policy',
    env: 'prod',
    broken: (r) => (r.preShiftSnapshot = 'never'),
    fixed: (r) => (r.preShiftSnapshot = 'always'),
    message: /routing\.preShiftSnapshot: got "never", expected when-green-rises-from-zero or always/,
  },
  {
    name: 'an error-rate service level of 0%',
    env: 'prod',
    broken: (r) => (r.serviceLevels.errorRatePercent = 0),
    fixed: (r) => (r.serviceLevels.errorRatePercent = 0.5),
    message: /routing\.serviceLevels\.errorRatePercent: got 0, expected a percent above 0/,
  },
  {
    name: 'a custom metric in an AWS namespace',
    env: 'prod',
    broken: (r) =>
      (r.serviceLevels.customMetrics = {
        latency: {
          namespace: 'AWS/ApplicationELB',
          metricName: 'SubmissionProcessingSeconds',
          dimensions: { blue: { Pipeline: 'monolith' }, green: { Pipeline: 'unified' } },
        },
      }),
    fixed: (r) =>
      (r.serviceLevels.customMetrics = {
        latency: {
          namespace: 'UnifiedPipeline',
          metricName: 'SubmissionProcessingSeconds',
          dimensions: { blue: { Pipeline: 'monolith' }, green: { Pipeline: 'unified' } },
        },
      }),
    message:
      /routing\.serviceLevels\.customMetrics\.latency\.namespace: got "AWS\/ApplicationELB", expected a custom namespace/,
  },
  {
    name: 'a custom metric without dimensions for green',
    env: 'prod',
    broken: (r) =>
      (r.serviceLevels.customMetrics = {
        throughput: { namespace: 'UnifiedPipeline', metricName: 'Submissions', dimensions: { blue: {} } },
      }),
    fixed: (r) =>
      (r.serviceLevels.customMetrics = {
        throughput: {
          namespace: 'UnifiedPipeline',
          metricName: 'Submissions',
          dimensions: { blue: { Pipeline: 'monolith' }, green: { Pipeline: 'unified' } },
        },
      }),
    message: /routing\.serviceLevels\.customMetrics\.throughput\.dimensions\.green: got nothing \(missing\)/,
  },
  {
    name: 'an unknown routing field',
    env: 'dev',
    broken: (r) => (r.weights = { blue: 100, green: 0 }),
    fixed: (r) => (r.initialWeights = { blue: 100, green: 0 }),
    message: /routing: unknown field\(s\) "weights"/,
  },
];

type Raw = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function withRouting(env: Case['env'], mutate: (r: Raw) => void) {
  const raw = structuredClone(rawConfig(env)) as Raw;
  mutate(raw.routing);
  return raw;
}

describe('routing config validation', () => {
  describe.each(CASES)('$name ($env)', (c) => {
    it('fails naming the environment, field, value and expectation', () => {
      expect(() => validateConfig(c.env, withRouting(c.env, c.broken))).toThrow(
        new RegExp(`environment "${c.env}"[\\s\\S]*${c.message.source}`),
      );
    });
    it('passes once fixed', () => {
      expect(() => validateConfig(c.env, withRouting(c.env, c.fixed))).not.toThrow();
    });
  });

  it('fills sandbox defaults: disabled, public image, 100% blue, HTTP allowed, 1% / 7 s service levels', () => {
    const raw = structuredClone(rawConfig('dev')) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    delete raw.routing;
    const { routing } = validateConfig('dev', raw);
    expect(routing.enabled).toBe(false);
    expect(routing.blue.image).toBe(SANDBOX_IMAGE);
    expect(routing.green).toMatchObject({ cpu: 256, memory: 512, desiredCount: 1, containerPort: 80 });
    expect(routing.initialWeights).toEqual({ blue: 100, green: 0 });
    expect(routing.loadBalancer).toMatchObject({ internetFacing: true, allowPlainHttp: true });
    expect(routing.serviceLevels).toMatchObject({
      errorRatePercent: 1,
      p95Seconds: 7,
      minRequestsPerMinute: 10,
    });
    expect(routing.serviceLevels.minThroughputPerHour).toBeUndefined();
    expect(routing).toMatchObject({ minRequestsPerStep: 100, evidenceWaitSeconds: 1800 });
    expect(routing.preShiftSnapshot).toBe('when-green-rises-from-zero');
  });

  it('prod has the 500 requests per hour floor and routes 100% blue at first', () => {
    const { routing } = validateConfig('prod', rawConfig('prod'));
    expect(routing.serviceLevels.minThroughputPerHour).toBe(500);
    expect(routing.initialWeights).toEqual({ blue: 100, green: 0 });
  });
});
