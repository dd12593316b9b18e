import { z } from 'zod';
import { EVIDENCE_DEFAULTS } from '../../../lambda/rollout/plan';
import { autoRollbackSchema } from './auto-rollback';
import { acmCertificateArn, logRetentionDays, port, positiveInt, secretArn, wafWebAclArn } from '../rules';

/**
 * Fargate task sizes: CPU units -> allowed memory (MiB). From the ECS task definition reference; any
 * other pair is refused by ECS at deploy time, so we refuse it at synth.
 */
export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** A public image an empty sandbox account can pull without a registry login. */
export const SANDBOX_IMAGE = 'public.ecr.aws/nginx/nginx:stable-alpine';

const keyError = {
  error: (iss: { code?: string }) =>
    iss.code === 'invalid_key' ? 'environment variable names: [A-Za-z_][A-Za-z0-9_]*' : undefined,
};

const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, 'an environment variable name: [A-Za-z_][A-Za-z0-9_]*');

const image = () =>
  z
    .string()
    .regex(
      /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\.[a-z0-9-]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)+(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$/,
      'a container image with an explicit tag or digest, such as public.ecr.aws/nginx/nginx:stable-alpine or 123456789012.dkr.ecr.us-east-1.amazonaws.com/pipeline:2026.11.1',
    )
    .refine((v) => !v.endsWith(':latest'), 'an image pinned to a tag other than latest, or a digest');

/** One color's ECS Fargate service. */
export const serviceSchema = z
  .strictObject({
    /** Container image with a tag or digest (not `latest`: a redeploy must not change what runs). */
    image: image().default(SANDBOX_IMAGE),
    /** Task CPU units. @default 256 */
    cpu: z
      .number()
      .refine(
        (v) => v in FARGATE_MEMORY_BY_CPU,
        'Fargate CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384',
      )
      .default(256),
    /** Task memory in MiB; must be a valid Fargate combination with cpu. @default 512 */
    memory: positiveInt('a positive number of MiB').default(512),
    /** Running tasks. At least 1: a color with no task has nothing to shift traffic to. @default 1 */
    desiredCount: z
      .number()
      .int('an integer from 1 to 100')
      .min(1, 'from 1 to 100 tasks')
      .max(100, 'from 1 to 100 tasks')
      .default(1),
    /** Port the container listens on; the only port the load balancer may reach. @default 80 */
    containerPort: port().default(80),
    /** Path the target group's health check requests. @default / */
    healthCheckPath: z
      .string()
      .regex(/^\/[\x21-\x7e]{0,1023}$/, 'a URL path starting with / (no spaces)')
      .default('/'),
    /** Plain environment variables of the container. @default {} */
    environment: z.record(envVarName, z.string(), keyError).default({}),
    /** Environment variables filled from Secrets Manager (whole secret, or one JSON `field`). @default {} */
    secrets: z
      .record(
        envVarName,
        z.union([secretArn(), z.strictObject({ secretArn: secretArn(), field: z.string().min(1) })], {
          error: () => 'a Secrets Manager secret ARN, or { secretArn, field }',
        }),
        keyError,
      )
      .default({}),
  })
  .superRefine((s, ctx) => {
    const allowed = FARGATE_MEMORY_BY_CPU[s.cpu];
    if (allowed && !allowed.includes(s.memory)) {
      ctx.addIssue({
        code: 'custom',
        path: ['memory'],
        message: `a Fargate memory size for ${s.cpu} CPU units (${allowed[0]}-${allowed[allowed.length - 1]} MiB in steps of ${(allowed[1] ?? 0) - (allowed[0] ?? 0)})`,
        input: s.memory,
      });
    }
    for (const name of Object.keys(s.secrets)) {
      if (name in s.environment) {
        ctx.addIssue({
          code: 'custom',
          path: ['secrets', name],
          message: 'a name not also given in environment',
          input: name,
        });
      }
    }
  });

const weight = z.number().int('an integer from 0 to 100').min(0, 'from 0 to 100').max(100, 'from 0 to 100');

/** Percent of traffic to each color: integers 0-100 that sum to 100. */
export const weightsSchema = z
  .strictObject({ blue: weight, green: weight })
  .refine((w) => w.blue + w.green === 100, 'blue + green = 100');

const dimensions = z.record(z.string().min(1).max(255), z.string().min(1).max(1024));

/**
 * A metric the pipeline publishes itself, used instead of the load balancer's for one service level
 * (for example "processing time per submission", which is not an HTTP latency).
 */
export const customMetricSchema = z.strictObject({
  namespace: z
    .string()
    .regex(/^[^:]{1,255}$/, 'a CloudWatch namespace')
    .refine((v) => !v.startsWith('AWS/'), 'a custom namespace (not AWS/...)'),
  metricName: z.string().min(1, 'a metric name').max(255),
  /** Dimensions that select each color's series. */
  dimensions: z.strictObject({ blue: dimensions, green: dimensions }),
  /** Statistic the alarm evaluates. @default per service level: Average, p95, Sum */
  statistic: z
    .string()
    .regex(
      /^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d+)?)$/,
      'Average, Sum, Minimum, Maximum, SampleCount or pNN',
    )
    .optional(),
  /** Threshold in the metric's own unit. @default the service level's value */
  threshold: z.number().nonnegative('a number >= 0').optional(),
});

export const serviceLevelsSchema = z.strictObject({
  /** Per color: 5xx responses as a percent of requests above this alarm. @default 1 */
  errorRatePercent: z.number().gt(0, 'a percent above 0').max(100, 'at most 100').default(1),
  /** Per color: p95 target response time above this (seconds) alarms. @default 7 */
  p95Seconds: z.number().gt(0, 'a number of seconds above 0').max(3600, 'at most 3600').default(7),
  /**
   * Green's error-rate and p95 alarms judge a minute only when green served at least this many requests in
   * it; a quieter minute has no datapoint ("not enough data": it neither pages nor passes a gate). One 5xx
   * in one request is not a 100% error rate. Blue's alarms are unchanged. @default 10
   */
  minRequestsPerMinute: positiveInt('a positive number of requests per minute')
    .max(100_000, 'at most 100000')
    .default(10),
  /** Both colors together: fewer requests than this per hour alarms. Unset: no throughput alarm. */
  minThroughputPerHour: positiveInt('a positive number of requests per hour').optional(),
  /** Point a service level at a metric the pipeline publishes instead of the load balancer's. */
  customMetrics: z
    .strictObject({
      errorRate: customMetricSchema.optional(),
      latency: customMetricSchema.optional(),
      throughput: customMetricSchema.optional(),
    })
    .prefault({}),
});

export const loadBalancerSchema = z
  .strictObject({
    /** Internet-facing (in the public subnets) or internal. @default false */
    internetFacing: z.boolean().default(false),
    /** ACM certificate of the HTTPS listener. Required unless allowPlainHttp. */
    certificateArn: acmCertificateArn().optional(),
    /** Serve plain HTTP instead of HTTPS (sandboxes without a certificate); warned at synth. @default false */
    allowPlainHttp: z.boolean().default(false),
    /** CIDR blocks allowed to reach the listener. @default ['0.0.0.0/0'] when internet-facing */
    ingressCidrs: z
      .array(
        z
          .string()
          .regex(
            /^(\d{1,3}\.){3}\d{1,3}\/([0-9]|[12][0-9]|3[0-2])$/,
            'an IPv4 CIDR block such as 10.0.0.0/8',
          ),
      )
      .optional(),
    /**
     * AWS WAF in front of the load balancer: `managed` (a web ACL with the AWS managed rule groups common,
     * known bad inputs and IP reputation) or `none`. @default managed in prod when internet-facing (or
     * when wafWebAclArn is given: that ACL), none elsewhere
     */
    waf: z.enum(['managed', 'none'], { error: () => 'managed or none' }).optional(),
    /** An existing regional web ACL to associate instead of the managed one. */
    wafWebAclArn: wafWebAclArn().optional(),
    /** Deletion protection of the load balancer. @default true in prod, false elsewhere */
    deletionProtection: z.boolean().optional(),
    /** Days the access-log bucket keeps log objects. @default 90 */
    accessLogRetentionDays: positiveInt('a positive number of days')
      .max(3650, 'at most 3650 days')
      .default(90),
    /** Idle connection timeout. @default 60 */
    idleTimeoutSeconds: z
      .number()
      .int('an integer from 1 to 4000')
      .min(1)
      .max(4000, 'from 1 to 4000')
      .default(60),
  })
  .superRefine((lb, ctx) => {
    if (lb.certificateArn === undefined && !lb.allowPlainHttp) {
      ctx.addIssue({
        code: 'custom',
        path: ['certificateArn'],
        message: 'an ACM certificate ARN for the HTTPS listener, or allowPlainHttp: true',
        input: lb.certificateArn,
      });
    }
    if (lb.certificateArn !== undefined && lb.allowPlainHttp) {
      ctx.addIssue({
        code: 'custom',
        path: ['allowPlainHttp'],
        message: 'false when a certificateArn is given (port 80 then redirects to HTTPS)',
        input: lb.allowPlainHttp,
      });
    }
    if (lb.wafWebAclArn !== undefined && lb.waf !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['waf'],
        message: 'no waf setting when wafWebAclArn names the web ACL to use',
        input: lb.waf,
      });
    }
    if (!lb.internetFacing && (lb.ingressCidrs ?? []).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['ingressCidrs'],
        message: 'at least one CIDR block for an internal load balancer (who inside the network calls it?)',
        input: lb.ingressCidrs,
      });
    }
  });

const routingFields = {
  /** Whether this environment has the load balancer and the two services. @default false */
  enabled: z.boolean().default(false),
  loadBalancer: loadBalancerSchema.prefault({ allowPlainHttp: true, internetFacing: true }),
  /** The old monolith pipeline. */
  blue: serviceSchema.prefault({}),
  /** The new unified pipeline. */
  green: serviceSchema.prefault({}),
  /**
   * Weights written to the weights parameter when it is first created. Later changes here do NOT move
   * traffic: the parameter belongs to the shift command from then on. @default 100 / 0
   */
  initialWeights: weightsSchema.prefault({ blue: 100, green: 0 }),
  /** Default bake time of `shift` (watching green's alarms after a change), in seconds. @default 300 */
  bakeSeconds: z
    .number()
    .int('an integer number of seconds')
    .min(0)
    .max(86400, 'at most 86400 (one day)')
    .default(300),
  serviceLevels: serviceLevelsSchema.prefault({}),
  /**
   * Evidence before promotion: a rollout step's bake completes only after green served at least this many
   * requests since the step was applied (ALB RequestCount of green's target group) with no watched alarm in
   * ALARM or INSUFFICIENT_DATA. 0 turns the request count off (the alarms must still have evaluated).
   * @default 100
   */
  minRequestsPerStep: z
    .number()
    .int('an integer number of requests')
    .min(0, 'at least 0')
    .max(10_000_000, 'at most 10000000')
    .default(EVIDENCE_DEFAULTS.minRequestsPerStep),
  /**
   * How long past its bake a rollout step waits for that evidence; then the plan PAUSES for a person
   * (`shift --promote`, `--abort`) instead of promoting. @default 1800
   */
  evidenceWaitSeconds: z
    .number()
    .int('an integer number of seconds')
    .min(0, 'at least 0')
    .max(6 * 3600, 'at most 21600 (6h)')
    .default(EVIDENCE_DEFAULTS.evidenceWaitSeconds),
  /** When `shift` takes an RDS snapshot first. @default when-green-rises-from-zero */
  preShiftSnapshot: z
    .enum(['when-green-rises-from-zero', 'always'], {
      error: () => 'when-green-rises-from-zero or always',
    })
    .default('when-green-rises-from-zero'),
  /** Minutes `shift` waits for the pre-shift snapshot. @default 60 */
  snapshotTimeoutMinutes: positiveInt('a positive number of minutes').max(720, 'at most 720').default(60),
  /** Retention of the services' container logs. @default the environment's logRetentionDays */
  logRetentionDays: logRetentionDays().optional(),
  /** Automatic rollback: trigger classes and the watch window (lib/config/sections/auto-rollback.ts). */
  autoRollback: autoRollbackSchema.prefault({}),
};

/** Weighted blue-green routing: load balancer, blue and green services, weights, service levels. */
export const routingSchema = z.strictObject(routingFields);

export type ServiceConfig = z.output<typeof serviceSchema>;
export type CustomMetricConfig = z.output<typeof customMetricSchema>;
