import * as iam from 'aws-cdk-lib/aws-iam';
import {
  MANAGED_BY_VALUE,
  TAG_ENVIRONMENT,
  TAG_MANAGED_BY,
  TAG_REASON,
  TAG_SOURCE_REGION,
  type SnapshotReason,
} from '../../lambda/snapshots/naming';

/**
 * The IAM side of "a snapshot can be deleted only if this tool created it". One place builds every
 * statement that may put the ownership tags on a snapshot, so the shift operator, the rollout task and
 * the snapshot function cannot drift apart. What RDS documents, and so what these statements rely on:
 *
 * - Tag-on-create: when CreateDBSnapshot or CopyDBSnapshot carries `Tags`, RDS additionally authorizes
 *   `rds:AddTagsToResource` on the NEW snapshot's ARN, with `aws:RequestTag/<key>`, `aws:TagKeys` and
 *   `rds:req-tag/<key>` describing the request's tags (RDS User Guide, "Grant permission to tag Amazon RDS
 *   resources during creation"; Service Authorization Reference, "Actions, resources, and condition keys
 *   for Amazon RDS").
 * - RDS documents no condition key that holds only inside a create call (EC2 has `ec2:CreateAction`; RDS
 *   has no equivalent), so an Allow that lets a role tag at creation also lets it call AddTagsToResource
 *   on an existing snapshot whose ARN matches, with the same tags. IAM cannot close that alone; the
 *   statements here make it as narrow as IAM can (exact values, exact keys, only the tool's own names of
 *   this environment, one reason per caller), and `isManagedSnapshot` plus the README's limits say the rest.
 */

/** Tag keys a snapshot of this tool carries; `aws:TagKeys` may hold these and no others. */
export const SNAPSHOT_TAG_KEYS: readonly string[] = [
  TAG_MANAGED_BY,
  TAG_ENVIRONMENT,
  TAG_REASON,
  TAG_SOURCE_REGION,
];

export interface OwnershipTagOptions {
  readonly envName: string;
  /** The `reason` values this caller may write. @default any of the tool's reasons */
  readonly reasons?: readonly SnapshotReason[];
  /** Whether the request may carry `source-region` (cross-region copies only). @default false */
  readonly sourceRegion?: boolean;
}

/**
 * Conditions every tagging request for a tool snapshot must meet: `managed-by` and `environment` with the
 * tool's exact values, `reason` among the allowed ones, and no tag key outside the tool's set.
 */
export function ownershipTagConditions(o: OwnershipTagOptions): Record<string, Record<string, unknown>> {
  const keys = o.sourceRegion ? SNAPSHOT_TAG_KEYS : SNAPSHOT_TAG_KEYS.filter((k) => k !== TAG_SOURCE_REGION);
  return {
    StringEquals: {
      [`aws:RequestTag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE,
      [`aws:RequestTag/${TAG_ENVIRONMENT}`]: o.envName,
      ...(o.reasons ? { [`aws:RequestTag/${TAG_REASON}`]: [...o.reasons] } : {}),
    },
    'ForAllValues:StringEquals': { 'aws:TagKeys': keys },
  };
}

/** Conditions that say the snapshot itself already carries the tool's tags of this environment. */
export function ownedSnapshotConditions(envName: string): Record<string, Record<string, unknown>> {
  return {
    StringEquals: {
      [`rds:snapshot-tag/${TAG_MANAGED_BY}`]: MANAGED_BY_VALUE,
      [`rds:snapshot-tag/${TAG_ENVIRONMENT}`]: envName,
    },
  };
}

/**
 * The tag-on-create half of taking a tool snapshot: `rds:AddTagsToResource` on the given snapshot ARNs
 * (always the tool's prefix), only with the tool's tags. Never on a DB instance, never other tags.
 */
export function snapshotTagOnCreateStatement(
  sid: string,
  snapshotArns: readonly string[],
  o: OwnershipTagOptions,
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['rds:AddTagsToResource'],
    resources: [...snapshotArns],
    conditions: ownershipTagConditions(o),
  });
}

/**
 * `rds:CreateDBSnapshot` of one instance into the given (prefixed) snapshot names, only when the request
 * carries the tool's tags (`aws:RequestTag` on the create call itself as well as on the tag check).
 */
export function createToolSnapshotStatements(
  sidPrefix: string,
  instanceArn: string,
  snapshotArns: readonly string[],
  o: OwnershipTagOptions,
): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: `${sidPrefix}OfTheInstance`,
      actions: ['rds:CreateDBSnapshot'],
      resources: [instanceArn],
    }),
    new iam.PolicyStatement({
      sid: `${sidPrefix}AsToolSnapshot`,
      actions: ['rds:CreateDBSnapshot'],
      resources: [...snapshotArns],
      conditions: ownershipTagConditions(o),
    }),
    snapshotTagOnCreateStatement(`${sidPrefix}TagOnCreate`, snapshotArns, o),
  ];
}
