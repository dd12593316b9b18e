import { PROJECT, resourcePrefix } from '../../lib/project';

/** Why a snapshot was taken; stored in the `reason` tag and in the identifier. */
export type SnapshotReason = 'scheduled' | 'pre-shift' | 'manual';
export const SNAPSHOT_REASONS: readonly SnapshotReason[] = ['scheduled', 'pre-shift', 'manual'];

/** Tag keys every snapshot this tool creates carries. */
export const TAG_MANAGED_BY = 'managed-by';
export const TAG_ENVIRONMENT = 'environment';
export const TAG_REASON = 'reason';
/** On cross-region copies: the region and identifier of the source snapshot. */
export const TAG_SOURCE_REGION = 'source-region';
export const MANAGED_BY_VALUE = PROJECT;

/** `pipeline-guardrails-<env>-`: every identifier this tool creates starts with it (IAM delete scope too). */
export function snapshotPrefix(envName: string): string {
  return `${resourcePrefix(envName)}-`;
}

/** `20261126t013000z`: lower case because RDS stores identifiers in lower case. */
export function snapshotTimestamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d{3}Z$/, 'z')
    .replace(/[-:]/g, '')
    .toLowerCase();
}

/** `<project>-<env>-<reason>-<UTC timestamp>`, e.g. `pipeline-guardrails-prod-pre-shift-20261126t013000z`. */
export function snapshotIdentifier(envName: string, reason: SnapshotReason, now: Date): string {
  const id = `${snapshotPrefix(envName)}${reason}-${snapshotTimestamp(now)}`;
  if (!isValidSnapshotIdentifier(id)) {
    throw new Error(`snapshot identifier ${JSON.stringify(id)} is not a valid RDS snapshot identifier`);
  }
  return id;
}

/** RDS rules: 1-255 letters, digits or hyphens; a letter first; no double hyphen; no trailing hyphen. */
export function isValidSnapshotIdentifier(id: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9-]{0,254}$/.test(id) && !id.includes('--') && !id.endsWith('-');
}

/** The tags of a new snapshot (as RDS takes them). */
export function snapshotTags(envName: string, reason: SnapshotReason): { Key: string; Value: string }[] {
  return [
    { Key: TAG_MANAGED_BY, Value: MANAGED_BY_VALUE },
    { Key: TAG_ENVIRONMENT, Value: envName },
    { Key: TAG_REASON, Value: reason },
  ];
}

/**
 * True only for snapshots this tool made for this environment: the identifier has the tool's prefix AND
 * the managed-by and environment tags say so. Everything else is someone else's and is never touched.
 */
export function isManagedSnapshot(
  s: { readonly id: string; readonly tags: Readonly<Record<string, string>> },
  envName: string,
): boolean {
  return (
    s.id.startsWith(snapshotPrefix(envName)) &&
    s.tags[TAG_MANAGED_BY] === MANAGED_BY_VALUE &&
    s.tags[TAG_ENVIRONMENT] === envName
  );
}
