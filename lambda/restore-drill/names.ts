import { PROJECT, resourcePrefix } from '../../lib/project';
import { snapshotTimestamp } from '../snapshots/naming';

/**
 * Names the restore drill shares between the CDK app (IAM scopes, alarms), its handlers, the snapshot
 * upkeep (leak sweep) and the CLI: defined once here.
 */

/** `pipeline-guardrails-<env>-drill-`: every drill instance starts with it (IAM scopes on it too). */
export function drillInstancePrefix(envName: string): string {
  return `${resourcePrefix(envName)}-drill-`;
}

/**
 * The drill instance of one execution: the prefix and the execution's start time, so a retried task
 * finds the same instance (at most 63 characters: `pipeline-guardrails-staging-drill-20261201t050000z` is 50).
 */
export function drillInstanceIdentifier(envName: string, executionStartTime: Date): string {
  return `${drillInstancePrefix(envName)}${snapshotTimestamp(executionStartTime)}`;
}

/** Tag keys and values on every drill instance (tag-on-create; IAM requires and checks them). */
export const DRILL_TAG_REASON_VALUE = 'drill';
export function drillInstanceTags(envName: string): { Key: string; Value: string }[] {
  return [
    { Key: 'managed-by', Value: PROJECT },
    { Key: 'environment', Value: envName },
    { Key: 'reason', Value: DRILL_TAG_REASON_VALUE },
  ];
}

/** True only for an instance this tool restored for a drill of this environment (prefix AND tags). */
export function isDrillInstance(
  i: { readonly id: string; readonly tags: Readonly<Record<string, string>> },
  envName: string,
): boolean {
  return (
    i.id.startsWith(drillInstancePrefix(envName)) &&
    i.tags['managed-by'] === PROJECT &&
    i.tags.environment === envName &&
    i.tags.reason === DRILL_TAG_REASON_VALUE
  );
}

/** Metric names of the drill (namespace PipelineGuardrails, dimension Environment). */
export const DRILL_METRICS = {
  succeeded: 'RestoreDrillSucceeded',
  restoreMinutes: 'RestoreMinutes',
  verifyMinutes: 'RestoreVerifyMinutes',
  totalMinutes: 'RestoreDrillMinutes',
  checksFailed: 'RestoreChecksFailed',
  recoveryPointAgeHours: 'RestoreRecoveryPointAgeHours',
  /** Published by the snapshot upkeep once a drill has succeeded: days since the newest success. */
  daysSinceSuccess: 'RestoreDrillDaysSinceSuccess',
  /** Published by the snapshot upkeep: drill instances it had to delete (older than the drill's limit). */
  leakedInstancesDeleted: 'RestoreDrillInstancesLeaked',
} as const;

/** State-table items: the drill results (history and latest) and the snapshot manifests. */
export const DRILL_RESULT_PK = 'drill#result';
export const DRILL_LATEST_SK = 'latest';
/** The newest successful drill (read by the snapshot upkeep for the days-since-success metric). */
export const DRILL_LAST_SUCCESS_SK = 'last-success';
export const MANIFEST_PK_PREFIX = 'snapshot-manifest#';
export const MANIFEST_SK = 'manifest';
export function manifestKey(snapshotId: string): { pk: string; sk: string } {
  return { pk: `${MANIFEST_PK_PREFIX}${snapshotId}`, sk: MANIFEST_SK };
}

/** Longest the verifier may run (its Lambda timeout, and its share of the execution limit). */
export const VERIFY_TIMEOUT_MINUTES = 15;
/** Room after the restore timeout for credentials, verification and cleanup retries. */
export const DRILL_AFTER_RESTORE_MINUTES = 90;

/**
 * Longest a drill execution can run (the state machine's timeout): the restore timeout plus room for
 * credentials, verification and cleanup. A drill instance older than this belongs to no live drill, so
 * the snapshot upkeep deletes it as leaked.
 */
export function drillExecutionLimitMinutes(timeoutMinutes: number): number {
  return timeoutMinutes + DRILL_AFTER_RESTORE_MINUTES;
}

/** Name of the secret the drill writes the restored copy's credentials to (never production's). */
export function drillSecretName(envName: string): string {
  return `${resourcePrefix(envName)}/restore-drill-credentials`;
}

/** SSM parameter (under parameterPath(env, ...)) with the drill state machine's ARN, for the CLI. */
export const DRILL_STATE_MACHINE_PARAMETER = ['snapshots', 'drill-state-machine-arn'] as const;
