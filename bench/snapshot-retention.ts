import type { SnapshotInfo } from '../lambda/snapshots/rds-snapshots';
import { planRetention, type RetentionPolicy } from '../lambda/snapshots/retention';
import type { Benchmark } from './index';

/**
 * Retention planning is pure and runs on every upkeep (every 15 minutes) in each region. Target: a region
 * with a raised quota of 10,000 manual snapshots (half of them the tool's) plans in well under 100 ms, so
 * the function's time goes to RDS calls, never to the plan.
 */
const TARGET_MS = 100;
const SIZES = [100, 1_000, 10_000];
const RUNS = 21;
const POLICY: RetentionPolicy = {
  daily: 7,
  weekly: 4,
  monthly: 6,
  minimum: 4,
  preShiftDays: 30,
  maxDeletionsPerRun: 20,
};

function snapshots(n: number, now: number): SnapshotInfo[] {
  const out: SnapshotInfo[] = [];
  for (let i = 0; i < n; i++) {
    const createdAt = new Date(now - i * 6 * 3_600_000);
    const ours = i % 2 === 0;
    const reason = i % 7 === 0 ? 'pre-shift' : 'scheduled';
    out.push({
      id: ours ? `pipeline-guardrails-prod-${reason}-${i}` : `someone-elses-${i}`,
      status: i % 50 === 1 ? 'creating' : 'available',
      createdAt,
      tags: ours ? { 'managed-by': 'pipeline-guardrails', environment: 'prod', reason } : {},
    });
  }
  return out;
}

const bench: Benchmark = {
  async run() {
    const now = Date.UTC(2026, 10, 26);
    let ok = true;
    for (const n of SIZES) {
      const input = snapshots(n, now);
      const times: number[] = [];
      let deleted = 0;
      for (let r = 0; r < RUNS; r++) {
        const t = process.hrtime.bigint();
        deleted = planRetention(input, POLICY, { envName: 'prod', now: new Date(now) }).delete.length;
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(RUNS / 2)] as number;
      const max = times[RUNS - 1] as number;
      console.log(
        `  ${String(n).padStart(6)} snapshots: median ${median.toFixed(2)} ms, max ${max.toFixed(2)} ms, ${deleted} deletions planned (cap ${POLICY.maxDeletionsPerRun})`,
      );
      if (n === 10_000 && median >= TARGET_MS) ok = false;
    }
    console.log(
      `  target: 10,000 snapshots < ${TARGET_MS} ms (median of ${RUNS}); rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
    );
    return ok;
  },
};
export default bench;
