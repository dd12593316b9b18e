import type { SnapshotInfo } from '../../../lambda/snapshots/rds-snapshots';
import {
  dayKey,
  isoWeekKey,
  monthKey,
  planRetention,
  type RetentionPlan,
  type RetentionPolicy,
} from '../../../lambda/snapshots/retention';

/** mulberry32: a tiny seeded PRNG, so a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;
const ENV = 'prod';
const PREFIX = 'pipeline-guardrails-prod-';

function managedTags(reason: string, env = ENV): Record<string, string> {
  return { 'managed-by': 'pipeline-guardrails', environment: env, reason };
}

/** Independent of the implementation: the tool's own snapshots for ENV, by the definition. */
function isOurs(s: SnapshotInfo): boolean {
  return (
    s.id.startsWith(PREFIX) && s.tags['managed-by'] === 'pipeline-guardrails' && s.tags.environment === ENV
  );
}

interface GeneratedCase {
  readonly snapshots: SnapshotInfo[];
  readonly policy: RetentionPolicy;
  readonly now: Date;
}

function generate(seed: number): GeneratedCase {
  const r = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const now = new Date(Date.UTC(2026, 0, 1) + int(0, 365) * DAY + int(0, DAY - 1));
  const count = int(0, 120);
  // Snapshots cluster: some days have several (pre-shift bursts), many days have none.
  const spreadDays = pick([3, 20, 90, 400]);
  const snapshots: SnapshotInfo[] = [];
  for (let i = 0; i < count; i++) {
    const createdAt = r() < 0.03 ? undefined : new Date(now.getTime() - Math.floor(r() * spreadDays * DAY));
    const reason = pick(['scheduled', 'scheduled', 'pre-shift', 'manual']);
    const stamp = (createdAt ?? now).toISOString().replace(/[-:.]/g, '').toLowerCase();
    const status = pick([
      'available',
      'available',
      'available',
      'available',
      'available',
      'creating',
      'copying',
      'failed',
      'deleting',
    ]);
    const kind = r();
    let id = `${PREFIX}${reason}-${stamp}-${i}`;
    let tags = managedTags(reason);
    if (kind < 0.08)
      id = `nba-analytics-prod-before-migration-${i}`; // a human's snapshot, tagged like ours
    else if (kind < 0.14)
      tags = { owner: 'alice' }; // our prefix, no tag
    else if (kind < 0.2)
      tags = managedTags(reason, 'staging'); // our prefix, another environment's tag
    else if (kind < 0.25) {
      id = `pipeline-guardrails-staging-${reason}-${stamp}-${i}`; // another environment altogether
      tags = managedTags(reason, 'staging');
    } else if (kind < 0.28) tags = { ...managedTags(reason), 'managed-by': 'someone-else' };
    snapshots.push({ id, status, createdAt, tags, arn: `arn:aws:rds:us-east-1:1:snapshot:${id}` });
  }
  const policy: RetentionPolicy = {
    daily: int(0, 10),
    weekly: int(0, 6),
    monthly: int(0, 12),
    minimum: int(1, 10),
    preShiftDays: int(0, 30),
    maxDeletionsPerRun: pick([1, 5, 20, 100]),
  };
  return { snapshots, policy, now };
}

/** The snapshots each tier must keep, computed the slow, obvious way. */
function requiredByTier(available: SnapshotInfo[], count: number, key: (d: Date) => string): Set<string> {
  const newestPerPeriod = new Map<string, SnapshotInfo>();
  for (const s of available) {
    const k = key(s.createdAt as Date);
    const cur = newestPerPeriod.get(k);
    if (
      !cur ||
      (s.createdAt as Date).getTime() > (cur.createdAt as Date).getTime() ||
      ((s.createdAt as Date).getTime() === (cur.createdAt as Date).getTime() && s.id > cur.id)
    ) {
      newestPerPeriod.set(k, s);
    }
  }
  const periods = [...newestPerPeriod.keys()].sort().reverse().slice(0, count);
  return new Set(periods.map((p) => (newestPerPeriod.get(p) as SnapshotInfo).id));
}

function deletedIds(plan: RetentionPlan): Set<string> {
  return new Set(plan.delete.map((d) => d.snapshot.id));
}

const CASES = 500;

describe('planRetention on generated snapshot sets', () => {
  const cases = Array.from({ length: CASES }, (_, seed) => ({ seed, ...generate(seed + 1) }));

  it('generates varied cases (sanity of the generator itself)', () => {
    const withDeletions = cases.filter(
      (c) => planRetention(c.snapshots, c.policy, { envName: ENV, now: c.now }).delete.length > 0,
    );
    const withForeign = cases.filter((c) => c.snapshots.some((s) => !isOurs(s)));
    expect(withDeletions.length).toBeGreaterThan(CASES / 3);
    expect(withForeign.length).toBeGreaterThan(CASES / 2);
  });

  it.each(cases.map((c) => [c.seed, c] as const))('seed %i: holds every invariant', (_seed, c) => {
    const plan = planRetention(c.snapshots, c.policy, { envName: ENV, now: c.now });
    const deleted = deletedIds(plan);
    const ours = c.snapshots.filter(isOurs);
    const available = ours
      .filter((s) => s.status === 'available' && s.createdAt !== undefined)
      .sort(
        (a, b) => (b.createdAt as Date).getTime() - (a.createdAt as Date).getTime() || (a.id < b.id ? 1 : -1),
      );

    // Never a foreign snapshot; never one that is not available (except ones RDS marked failed).
    for (const d of plan.delete) {
      expect(isOurs(d.snapshot)).toBe(true);
      expect(['available', 'failed']).toContain(d.snapshot.status);
      expect(d.detail.length).toBeGreaterThan(0);
      expect(d.rule).toBe(d.snapshot.status === 'failed' ? 'failed' : 'expired');
    }
    // Never the newest available; never below the minimum.
    expect(available.slice(0, 1).filter((s) => deleted.has(s.id))).toEqual([]);
    const keptAvailable = available.filter((s) => !deleted.has(s.id)).length;
    expect(keptAvailable).toBeGreaterThanOrEqual(Math.min(c.policy.minimum, available.length));
    for (const s of available.slice(0, c.policy.minimum)) expect(deleted.has(s.id)).toBe(false);
    // Every tier keeps the newest of each of its last N periods.
    for (const [count, key] of [
      [c.policy.daily, dayKey],
      [c.policy.weekly, isoWeekKey],
      [c.policy.monthly, monthKey],
    ] as const) {
      for (const id of requiredByTier(available, count, key)) expect(deleted.has(id)).toBe(false);
    }
    // Pre-shift snapshots are kept for preShiftDays.
    const youngPreShift = available.filter(
      (s) =>
        s.tags.reason === 'pre-shift' &&
        c.now.getTime() - (s.createdAt as Date).getTime() < c.policy.preShiftDays * DAY,
    );
    expect(youngPreShift.filter((s) => deleted.has(s.id))).toEqual([]);
    // The cap holds, and every snapshot lands in exactly one list.
    expect(plan.delete.length).toBeLessThanOrEqual(c.policy.maxDeletionsPerRun);
    const all = [...plan.foreign, ...plan.keep.map((k) => k.snapshot), ...plan.delete.map((d) => d.snapshot)];
    expect(all.length).toBe(c.snapshots.length);
    expect(new Set(all).size).toBe(c.snapshots.length);
    for (const k of plan.keep) expect(k.reasons.length).toBeGreaterThan(0);

    // Input order does not matter.
    const shuffled = [...c.snapshots].reverse();
    expect(deletedIds(planRetention(shuffled, c.policy, { envName: ENV, now: c.now }))).toEqual(deleted);

    // Applying the plan and planning again deletes nothing more (unless the cap held some back).
    const capped = plan.keep.some((k) => k.reasons.includes('deletion-cap'));
    const after = c.snapshots.filter((s) => !deleted.has(s.id));
    const again = planRetention(after, c.policy, { envName: ENV, now: c.now }).delete;
    expect(capped || again.length === 0).toBe(true);
  });
});

describe('planRetention examples', () => {
  const now = new Date('2026-11-26T12:00:00Z');
  const policy: RetentionPolicy = {
    daily: 2,
    weekly: 0,
    monthly: 0,
    minimum: 1,
    preShiftDays: 7,
    maxDeletionsPerRun: 20,
  };
  const snap = (id: string, iso: string, extra: Partial<SnapshotInfo> = {}): SnapshotInfo => ({
    id: `${PREFIX}${id}`,
    status: 'available',
    createdAt: new Date(iso),
    tags: managedTags(id.startsWith('pre-shift') ? 'pre-shift' : 'scheduled'),
    ...extra,
  });

  it('keeps the newest of the last two days, deletes the rest oldest first with the rule that allowed it', () => {
    const plan = planRetention(
      [
        snap('scheduled-a', '2026-11-26T06:00:00Z'),
        snap('scheduled-b', '2026-11-26T00:00:00Z'),
        snap('scheduled-c', '2026-11-25T06:00:00Z'),
        snap('scheduled-d', '2026-11-24T06:00:00Z'),
        snap('scheduled-e', '2026-11-23T06:00:00Z'),
      ],
      policy,
      { envName: ENV, now },
    );
    expect(plan.delete.map((d) => d.snapshot.id)).toEqual([
      `${PREFIX}scheduled-e`,
      `${PREFIX}scheduled-d`,
      `${PREFIX}scheduled-b`,
    ]);
    expect(plan.delete[0]?.detail).toMatch(
      /created 2026-11-23T06:00:00.000Z, outside the daily 2, weekly 0 and monthly 0 tiers and the 1 newest/,
    );
    expect(plan.keep.find((k) => k.snapshot.id.endsWith('-a'))?.reasons).toEqual([
      'daily',
      'newest',
      'minimum',
    ]);
  });

  it('keeps a young pre-shift snapshot and deletes an old one, saying so', () => {
    const plan = planRetention(
      [
        snap('scheduled-a', '2026-11-26T06:00:00Z'),
        snap('pre-shift-young', '2026-11-20T06:00:00Z'),
        snap('pre-shift-old', '2026-11-01T06:00:00Z'),
      ],
      { ...policy, daily: 1 },
      { envName: ENV, now },
    );
    expect(plan.keep.find((k) => k.snapshot.id.endsWith('young'))?.reasons).toEqual(['pre-shift']);
    expect(plan.delete.map((d) => d.snapshot.id)).toEqual([`${PREFIX}pre-shift-old`]);
    expect(plan.delete[0]?.detail).toMatch(/pre-shift and older than 7 days/);
  });

  it('never deletes a snapshot in progress, a human one or one without the tag, even when all are old', () => {
    const plan = planRetention(
      [
        snap('scheduled-new', '2026-11-26T06:00:00Z'),
        snap('scheduled-creating', '2026-01-01T00:00:00Z', { status: 'creating' }),
        snap('scheduled-copying', '2026-01-01T00:00:00Z', { status: 'copying' }),
        snap('scheduled-untagged', '2026-01-01T00:00:00Z', { tags: {} }),
        {
          id: 'nba-before-upgrade',
          status: 'available',
          createdAt: new Date('2025-01-01'),
          tags: managedTags('manual'),
        },
      ],
      { ...policy, daily: 0 },
      { envName: ENV, now },
    );
    expect(plan.delete).toEqual([]);
    expect(plan.foreign.map((s) => s.id)).toEqual([`${PREFIX}scheduled-untagged`, 'nba-before-upgrade']);
    expect(plan.keep.map((k) => [k.snapshot.id, k.reasons])).toEqual([
      [`${PREFIX}scheduled-creating`, ['in-progress']],
      [`${PREFIX}scheduled-copying`, ['in-progress']],
      [`${PREFIX}scheduled-new`, ['newest', 'minimum']],
    ]);
  });

  it('deletes a failed snapshot and stops at the per-run cap', () => {
    const plan = planRetention(
      [
        snap('scheduled-new', '2026-11-26T06:00:00Z'),
        snap('scheduled-failed', '2026-11-26T07:00:00Z', { status: 'failed' }),
        snap('scheduled-old1', '2026-10-01T00:00:00Z'),
        snap('scheduled-old2', '2026-10-02T00:00:00Z'),
      ],
      { ...policy, daily: 1, maxDeletionsPerRun: 2 },
      { envName: ENV, now },
    );
    expect(plan.delete.map((d) => [d.snapshot.id, d.rule])).toEqual([
      [`${PREFIX}scheduled-failed`, 'failed'],
      [`${PREFIX}scheduled-old1`, 'expired'],
    ]);
    expect(plan.keep.find((k) => k.snapshot.id.endsWith('old2'))?.reasons).toEqual(['deletion-cap']);
  });

  it('uses ISO weeks and calendar months in UTC', () => {
    expect(isoWeekKey(new Date('2026-01-01T00:00:00Z'))).toBe('2026-W01');
    expect(isoWeekKey(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53');
    expect(isoWeekKey(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
    expect(monthKey(new Date('2026-02-28T23:59:59Z'))).toBe('2026-02');
    expect(dayKey(new Date('2026-02-28T23:59:59Z'))).toBe('2026-02-28');
  });
});
