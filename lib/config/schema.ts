import { z } from 'zod';
import { ENVIRONMENT_NAMES } from '../project';
import { regionUsable, securityConsistencyIssues } from './consistency';
import { accountId, logRetentionDays, regionName } from './rules';
import { alertingSchema } from './sections/alerting';
import { checksSchema } from './sections/checks';
import { costSchema } from './sections/cost';
import { databaseSchema } from './sections/database';
import { networkSchema } from './sections/network';
import { paritySchema } from './sections/parity';
import { routingSchema } from './sections/routing';
import { snapshotsEnvironmentIssues, snapshotsSchema } from './sections/snapshots';

const tagKey = z
  .string()
  .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u, 'a tag key of 1-128 allowed characters');

/**
 * The whole configuration of one environment. Every field is validated at synth; the cross-field rules
 * at the bottom catch combinations that are individually valid but contradictory.
 */
export const environmentConfigSchema = z
  .strictObject({
    /** Must match the file name and the `-c env=<name>` value. */
    envName: z.enum(ENVIRONMENT_NAMES, { error: () => `one of ${ENVIRONMENT_NAMES.join(', ')}` }),
    account: accountId(),
    region: regionName(),
    /** Extra tags for every resource (Environment and Project are always added). */
    tags: z
      .record(tagKey, z.string().max(256, 'a tag value of at most 256 characters'))
      .refine(
        (t) => !('Environment' in t) && !('Project' in t),
        'no Environment or Project key (the app sets those)',
      )
      .default({}),
    /** Retention of every log group the app creates. @default 90 */
    logRetentionDays: logRetentionDays().default(90),
    network: networkSchema,
    database: databaseSchema,
    checks: checksSchema,
    snapshots: snapshotsSchema.prefault({}),
    alerting: alertingSchema,
    routing: routingSchema.prefault({}),
    /** Blue-vs-green output parity pairs (README "Output parity"). @default [] */
    parity: paritySchema.default([]),
    cost: costSchema,
  })
  .superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string, input: unknown) =>
      ctx.addIssue({ code: 'custom', path, message, input });

    // Cross-field rules only compare fields that are valid on their own, so one typo gives one message.
    // A region every regional field contradicts is blamed once, on `region` (lib/config/consistency.ts).
    const regionValid = regionUsable(c, issue);
    const accountValid = accountId().safeParse(c.account).success;
    const azs = c.network.availabilityZones;
    azs.forEach((az, i) => {
      if (regionValid && !az.startsWith(c.region)) {
        issue(['network', 'availabilityZones', i], `an availability zone of region ${c.region}`, az);
      }
    });
    if (new Set(azs).size !== azs.length) {
      issue(['network', 'availabilityZones'], 'distinct availability zones', azs);
    }
    if (c.network.mode === 'existing') {
      const n = c.network;
      if (n.privateSubnetIds.length !== azs.length) {
        issue(
          ['network', 'privateSubnetIds'],
          `one private subnet per availability zone (${azs.length} zones given)`,
          n.privateSubnetIds,
        );
      }
      if (n.publicSubnetIds.length > 0 && n.publicSubnetIds.length !== azs.length) {
        issue(
          ['network', 'publicSubnetIds'],
          `none, or one public subnet per availability zone (${azs.length} zones given)`,
          n.publicSubnetIds,
        );
      }
    }

    // Secrets the functions read at run time must be in the environment's own account and region.
    const sameAccountAndRegion = (path: (string | number)[], arn: string | undefined) => {
      if (arn === undefined || !regionValid || !accountValid) return;
      const [, , , secretRegion, secretAccount] = arn.split(':');
      if (secretRegion !== c.region || secretAccount !== c.account) {
        issue(path, `a secret in this environment's account and region (${c.account}, ${c.region})`, arn);
      }
    };
    sameAccountAndRegion(['checks', 'credentialsSecretArn'], c.checks.credentialsSecretArn);

    const db = c.database;
    if (db.mode === 'existing') {
      sameAccountAndRegion(['database', 'credentialsSecretArn'], db.credentialsSecretArn);
      if (c.network.mode === 'create') {
        issue(
          ['database', 'mode'],
          'mode "create" when the network is created (an existing database lives in an existing VPC)',
          db.mode,
        );
      }
    } else {
      if (db.maxAllocatedStorageGiB < db.allocatedStorageGiB) {
        issue(
          ['database', 'maxAllocatedStorageGiB'],
          `a value >= allocatedStorageGiB (${db.allocatedStorageGiB})`,
          db.maxAllocatedStorageGiB,
        );
      }
      if (db.deletionProtection && db.removalPolicy === 'destroy') {
        issue(
          ['database', 'removalPolicy'],
          'snapshot or retain when deletionProtection is true (a protected database cannot be destroyed)',
          db.removalPolicy,
        );
      }
      if (c.envName === 'prod' && db.removalPolicy === 'destroy') {
        issue(['database', 'removalPolicy'], 'snapshot or retain in prod', db.removalPolicy);
      }
      if (c.envName === 'prod' && !db.deletionProtection) {
        issue(['database', 'deletionProtection'], 'true in prod', db.deletionProtection);
      }
    }

    if (regionValid && accountValid) snapshotsEnvironmentIssues(c, issue);
    if (regionValid && accountValid) securityConsistencyIssues(c, issue);

    if (c.envName === 'prod' && c.alerting.criticalSubscriptions.length === 0) {
      issue(
        ['alerting', 'criticalSubscriptions'],
        'at least one critical subscriber in prod (a page that reaches no one is not a page)',
        c.alerting.criticalSubscriptions,
      );
    }
    // A free-storage floor at or above the allocated size would alarm on an empty database.
    for (const severity of ['warning', 'critical'] as const) {
      const floor = c.alerting.databaseHealth.freeStorageGiB[severity];
      if (floor !== undefined && floor >= c.database.allocatedStorageGiB) {
        issue(
          ['alerting', 'databaseHealth', 'freeStorageGiB', severity],
          `a free-storage floor below the allocated storage (database.allocatedStorageGiB = ${c.database.allocatedStorageGiB})`,
          floor,
        );
      }
    }
  });

/** What an environment file is written as (defaults may be left out). */
export type EnvironmentConfigInput = z.input<typeof environmentConfigSchema>;
/** The validated configuration, defaults filled in. */
export type EnvironmentConfig = z.output<typeof environmentConfigSchema>;
export type NetworkConfig = EnvironmentConfig['network'];
export type DatabaseConfig = EnvironmentConfig['database'];
export type ChecksConfig = EnvironmentConfig['checks'];
export type AlertingConfig = EnvironmentConfig['alerting'];
export type SnapshotsConfig = EnvironmentConfig['snapshots'];
export type RoutingConfig = EnvironmentConfig['routing'];
export type ParityConfig = EnvironmentConfig['parity'];
export type CostConfig = EnvironmentConfig['cost'];
