import { z } from 'zod';

/**
 * Reusable field rules. Each carries the human-readable expectation that appears in synth errors
 * ("expected ..."), so a bad value is reported with what it should have been.
 */

export const SQL_IDENTIFIER = /^[a-z_][a-z0-9_$]{0,62}$/;

export const sqlIdentifier = () =>
  z
    .string()
    .regex(SQL_IDENTIFIER, 'a lower-case PostgreSQL identifier: [a-z_][a-z0-9_$]*, at most 63 characters');

export const accountId = () => z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id');

export const regionName = () =>
  z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'an AWS region name such as us-east-1');

export const vpcId = () =>
  z.string().regex(/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/, 'a VPC id such as vpc-0123456789abcdef0');

export const subnetId = () =>
  z.string().regex(/^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/, 'a subnet id such as subnet-0123456789abcdef0');

export const securityGroupId = () =>
  z.string().regex(/^sg-[0-9a-f]{8}([0-9a-f]{9})?$/, 'a security group id such as sg-0123456789abcdef0');

export const availabilityZone = () =>
  z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, 'an availability zone name such as us-east-1a');

export const secretArn = () =>
  z
    .string()
    .regex(
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/,
      'a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
    );

export const acmCertificateArn = () =>
  z
    .string()
    .regex(
      /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/,
      'an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)',
    );

export const wafWebAclArn = () =>
  z
    .string()
    .regex(
      /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[A-Za-z0-9_-]{1,128}\/[0-9a-f-]{36}$/,
      'a regional AWS WAF web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)',
    );

export const kmsKeyArn = () =>
  z
    .string()
    .regex(
      /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/,
      'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<uuid>)',
    );

/** RDS DB instance identifier rules: letter first, letters/digits/hyphens, no double or trailing hyphen. */
export const rdsInstanceIdentifier = () =>
  z
    .string()
    .regex(
      /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}$/,
      'an RDS instance identifier: a letter, then letters, digits or single hyphens, at most 63 characters',
    )
    .refine((v) => !v.endsWith('-'), 'an RDS instance identifier that does not end with a hyphen');

export const hostname = () =>
  z
    .string()
    .regex(
      /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/,
      'a DNS host name such as mydb.abc123.us-east-1.rds.amazonaws.com',
    );

export const port = () =>
  z
    .number()
    .int('an integer port from 1 to 65535')
    .min(1, 'a port from 1 to 65535')
    .max(65535, 'a port from 1 to 65535');

export const positiveInt = (what = 'a positive integer') => z.number().int(what).positive(what);

export const nonNegativeInt = (what = 'an integer >= 0') => z.number().int(what).min(0, what);

export const emailAddress = () => z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an e-mail address');

/** Days a CloudWatch Logs group may keep its events (the values the service accepts). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const logRetentionDays = () =>
  z
    .number()
    .refine(
      (v) => (LOG_RETENTION_DAYS as readonly number[]).includes(v),
      `one of the CloudWatch Logs retention values (${LOG_RETENTION_DAYS.join(', ')})`,
    );
