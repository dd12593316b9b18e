import { isManagedSnapshot, TAG_REASON } from './naming';
import type { SnapshotInfo } from './rds-snapshots';

/** How many snapshots to keep (config `snapshots.retention`). */
export interface RetentionPolicy {
  /** Newest snapshot of each of the last N UTC days that have one. */
  readonly daily: number;
  /** Newest snapshot of each of the last M ISO weeks that have one. */
  readonly weekly: number;
  /** Newest snapshot of each of the last K calendar months that have one. */
  readonly monthly: number;
  /** The newest `minimum` available snapshots, whatever their age. */
  readonly minimum: number;
  /** Pre-shift snapshots younger than this many days. */
  readonly preShiftDays: number;
  /** At most this many deletions in one plan; the oldest go first. */
  readonly maxDeletionsPerRun: number;
}

export type KeepReason =
  | 'in-progress'
  | 'not-available'
  | 'no-creation-time'
  | 'newest'
  | 'minimum'
  | 'daily'
  | 'weekly'
  | 'monthly'
  | 'pre-shift'
  | 'deletion-cap';

export interface Kept {
  readonly snapshot: SnapshotInfo;
  /** Every rule that keeps it (at least one). */
  readonly reasons: readonly KeepReason[];
}

export interface Deletion {
  readonly snapshot: SnapshotInfo;
  /** The rule that allows the deletion. */
  readonly rule: 'expired' | 'failed';
  /** Why, in words, for the log line. */
  readonly detail: string;
}

export interface RetentionPlan {
  /** Snapshots this tool did not make for this environment: never touched, listed for the record. */
  readonly foreign: readonly SnapshotInfo[];
  readonly keep: readonly Kept[];
  /** Oldest first. */
  readonly delete: readonly Deletion[];
}

/** Statuses on the way to `available`: a snapshot in one of these is never deleted. */
export const IN_PROGRESS_STATUSES: ReadonlySet<string> = new Set([
  'creating',
  'copying',
  'pending',
  'backing-up',
  'modifying',
]);

const DAY_MS = 86_400_000;

/** `2026-11-26` (UTC). */
export function dayKey(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** `2026-W48` (ISO 8601 week, UTC). */
export function isoWeekKey(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const weekday = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / DAY_MS + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** `2026-11` (UTC). */
export function monthKey(d: Date): string {
  return d.toISOString().slice(0, 7);
}

/** Newest first; equal times by identifier so the plan never depends on input order. */
function newestFirst(a: SnapshotInfo, b: SnapshotInfo): number {
  const dt = (b.createdAt as Date).getTime() - (a.createdAt as Date).getTime();
  if (dt !== 0) return dt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Decides which snapshots to delete. Pure: same input, same plan, no I/O, so it can be checked with
 * generated cases. Only snapshots with the tool's prefix AND tags for this environment are candidates;
 * a snapshot that is not available is never deleted (except one RDS marked failed); the newest available
 * one and the `minimum` newest are always kept; each tier keeps the newest snapshot of each of its last
 * N periods that have one; pre-shift snapshots are kept for `preShiftDays`. Anything kept by no rule is
 * deleted, oldest first, at most `maxDeletionsPerRun` of them.
 */
export function planRetention(
  snapshots: readonly SnapshotInfo[],
  policy: RetentionPolicy,
  context: { readonly envName: string; readonly now: Date },
): RetentionPlan {
  const foreign: SnapshotInfo[] = [];
  const reasons = new Map<SnapshotInfo, KeepReason[]>();
  const failed: SnapshotInfo[] = [];
  const available: SnapshotInfo[] = [];
  const keepFor = (s: SnapshotInfo, r: KeepReason) => {
    const list = reasons.get(s);
    if (list) {
      if (!list.includes(r)) list.push(r);
    } else reasons.set(s, [r]);
  };

  for (const s of snapshots) {
    if (!isManagedSnapshot(s, context.envName)) foreign.push(s);
    else if (s.status === 'failed') failed.push(s);
    else if (IN_PROGRESS_STATUSES.has(s.status)) keepFor(s, 'in-progress');
    else if (s.status !== 'available') keepFor(s, 'not-available');
    else if (s.createdAt === undefined || Number.isNaN(s.createdAt.getTime())) keepFor(s, 'no-creation-time');
    else available.push(s);
  }

  available.sort(newestFirst);
  const tiers: [KeepReason, number, (d: Date) => string][] = [
    ['daily', policy.daily, dayKey],
    ['weekly', policy.weekly, isoWeekKey],
    ['monthly', policy.monthly, monthKey],
  ];
  for (const [reason, count, key] of tiers) {
    const seen = new Set<string>();
    for (const s of available) {
      if (seen.size >= count) break;
      const k = key(s.createdAt as Date);
      if (seen.has(k)) continue;
      seen.add(k);
      keepFor(s, reason);
    }
  }
  available.forEach((s, i) => {
    if (i === 0) keepFor(s, 'newest');
    if (i < policy.minimum) keepFor(s, 'minimum');
    const ageMs = context.now.getTime() - (s.createdAt as Date).getTime();
    if (s.tags[TAG_REASON] === 'pre-shift' && ageMs < policy.preShiftDays * DAY_MS) keepFor(s, 'pre-shift');
  });

  // Failed ones first (they free quota and hold nothing), then expired ones oldest first, up to the cap.
  const deletions: Deletion[] = failed
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((s) => ({
      snapshot: s,
      rule: 'failed' as const,
      detail: 'RDS marked it failed; it holds no restorable data',
    }));
  const expired = available.filter((s) => !reasons.has(s)).reverse(); // oldest first
  const tierText = `the daily ${policy.daily}, weekly ${policy.weekly} and monthly ${policy.monthly} tiers and the ${policy.minimum} newest`;
  for (const s of expired) {
    const preShift =
      s.tags[TAG_REASON] === 'pre-shift' ? `; pre-shift and older than ${policy.preShiftDays} days` : '';
    deletions.push({
      snapshot: s,
      rule: 'expired',
      detail: `created ${(s.createdAt as Date).toISOString()}, outside ${tierText}${preShift}`,
    });
  }
  // Failed ones first (they free quota and hold nothing), then expired ones oldest first, up to the cap.
  deletions.sort((a, b) =>
    a.rule === b.rule && a.rule === 'failed' ? (a.snapshot.id < b.snapshot.id ? -1 : 1) : 0,
  );
  const allowed = deletions.slice(0, policy.maxDeletionsPerRun);
  for (const d of deletions.slice(policy.maxDeletionsPerRun)) keepFor(d.snapshot, 'deletion-cap');

  const keep: Kept[] = [...reasons.entries()].map(([snapshot, r]) => ({ snapshot, reasons: r }));
  return { foreign, keep, delete: allowed };
}
