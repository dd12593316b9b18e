import { z } from 'zod';
import {
  hostname,
  port,
  positiveInt,
  rdsInstanceIdentifier,
  secretArn,
  securityGroupId,
  sqlIdentifier,
} from '../rules';

/**
 * The PostgreSQL the guardrails protect.
 * - `existing`: the production-style RDS instance the team runs today (the checks must target the primary).
 * - `create`: a small encrypted PostgreSQL for a sandbox account, so `cdk deploy -c env=dev` works anywhere.
 */
export const existingDatabaseSchema = z.strictObject({
  mode: z.literal('existing'),
  /** RDS DB instance identifier of the primary (not a read replica). */
  instanceIdentifier: rdsInstanceIdentifier(),
  /** Writer endpoint host name. */
  endpoint: hostname(),
  /** @default 5432 */
  port: port().default(5432),
  /** Database (catalog) name the checks connect to. */
  databaseName: sqlIdentifier(),
  /** Security group attached to the instance; the guardrails add ingress from their own group. */
  securityGroupId: securityGroupId(),
  /** Secret with the admin (or owner) credentials; JSON with username and password. */
  credentialsSecretArn: secretArn(),
  /** Allocated storage in GiB, used to express free storage as a fraction. */
  allocatedStorageGiB: positiveInt('a positive number of GiB').max(65536, 'at most 65536 GiB'),
});

export const createDatabaseSchema = z.strictObject({
  mode: z.literal('create'),
  /** Instance class without the `db.` prefix. @default t4g.micro */
  instanceClass: z
    .string()
    .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an instance class without "db." such as t4g.micro')
    .default('t4g.micro'),
  /** PostgreSQL major version. @default 15 */
  engineMajorVersion: z
    .enum(['15', '16', '17'], { error: () => 'PostgreSQL major version 15, 16 or 17' })
    .default('15'),
  /** @default 20 */
  allocatedStorageGiB: z
    .number()
    .int('an integer from 20 to 65536')
    .min(20, 'at least 20 GiB')
    .max(65536)
    .default(20),
  /** Storage autoscaling ceiling; must be >= allocatedStorageGiB. @default 100 */
  maxAllocatedStorageGiB: z.number().int('an integer number of GiB').max(65536).default(100),
  /** @default 5432 */
  port: port().default(5432),
  databaseName: sqlIdentifier(),
  /** Automated backup retention. @default 7 */
  backupRetentionDays: z
    .number()
    .int('an integer from 1 to 35')
    .min(1, 'from 1 to 35 days')
    .max(35, 'from 1 to 35 days')
    .default(7),
  /** @default false */
  multiAz: z.boolean().default(false),
  /** @default false */
  deletionProtection: z.boolean().default(false),
  /**
   * What happens to the instance when the stack is deleted.
   * `destroy` cannot go with deletionProtection, and is refused for prod. @default snapshot
   */
  removalPolicy: z
    .enum(['destroy', 'snapshot', 'retain'], { error: () => 'one of destroy, snapshot, retain' })
    .default('snapshot'),
});

export const databaseSchema = z.discriminatedUnion('mode', [existingDatabaseSchema, createDatabaseSchema], {
  error: () =>
    'mode "existing" (instanceIdentifier, endpoint, ...) or "create" (instanceClass, databaseName, ...)',
});
