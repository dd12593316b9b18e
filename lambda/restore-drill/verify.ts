import type { ChecksConfig } from '../../lib/config/schema';
import type { DrillConfig } from '../../lib/config/sections/snapshots';
import { judgeSchema, type RuleResult } from '../data-checks/checker';
import type { ConnectionSettings } from '../data-checks/connection';
import { checkDatabase } from '../data-checks/run';
import { tableKey } from '../data-checks/sql';
import { MemoryStateStore } from '../data-checks/state-store';
import type { SnapshotManifest } from './manifest';

type CustomCheckConfig = NonNullable<DrillConfig['sentinel']>;

/**
 * Verification of a restored copy with the data checker's own code: one checker run against the copy
 * with an empty state (so every configured table is counted exactly and fingerprinted), then the counts
 * and fingerprints compared with the snapshot's manifest. A copy that fails any rule fails the drill.
 */

export type DrillRule = 'checker' | 'rows-present' | 'schema' | 'sentinel' | 'manifest';

export interface DrillFinding {
  readonly rule: DrillRule;
  /** `schema.table`, the sentinel's name, or the snapshot id. */
  readonly target: string;
  readonly passed: boolean;
  readonly detail: string;
}

export interface DrillTableResult {
  readonly key: string;
  readonly count?: number;
  readonly manifestCount?: number;
  readonly fingerprintMatches?: boolean;
}

export interface DrillVerification {
  readonly passed: boolean;
  /** Failed findings (what fails the drill). */
  readonly failedCount: number;
  readonly findings: readonly DrillFinding[];
  readonly tables: readonly DrillTableResult[];
  readonly durationMs: number;
  readonly checkedAt: string;
}

export interface VerifyInput {
  readonly settings: ConnectionSettings;
  readonly checks: ChecksConfig;
  readonly snapshotId: string;
  /** Undefined when the snapshot has none: the rows-present rule cannot pass. */
  readonly manifest?: SnapshotManifest;
  readonly sentinel?: CustomCheckConfig;
  readonly clock?: () => Date;
}

/** The checks plan run against the copy: every table counted and fingerprinted, the sentinel, no freshness. */
export function drillPlan(checks: ChecksConfig, sentinel?: CustomCheckConfig): ChecksConfig {
  return {
    ...checks,
    tables: checks.tables.map((t) => ({ ...t, trackSchema: true })),
    // A restored copy is as old as its snapshot: freshness says nothing about whether it restores.
    freshness: [],
    custom: sentinel ? [sentinel] : [],
  };
}

export async function verifyRestoredCopy(input: VerifyInput): Promise<DrillVerification> {
  const clock = input.clock ?? (() => new Date());
  const started = clock();
  const store = new MemoryStateStore();
  const report = await checkDatabase(input.settings, drillPlan(input.checks, input.sentinel), store, {
    clock,
  });
  const findings: DrillFinding[] = [];
  for (const f of report.failures) {
    findings.push({ rule: 'checker', target: f.kind, passed: false, detail: f.message });
  }
  for (const r of report.results) {
    // The sentinel's bounds are absolute for a drill, whatever severity its alarm would have.
    const sentinelOut = r.rule === 'custom' && r.status === 'warning';
    if (r.status === 'violation' || r.status === 'error' || sentinelOut) findings.push(checkerFinding(r));
  }

  const manifest = input.manifest;
  if (!manifest) {
    findings.push({
      rule: 'manifest',
      target: input.snapshotId,
      passed: false,
      detail: `snapshot ${input.snapshotId} has no manifest (taken before manifests were recorded, or recording failed): the rows present at snapshot time cannot be compared`,
    });
  } else if (manifest.snapshotId !== input.snapshotId) {
    findings.push({
      rule: 'manifest',
      target: input.snapshotId,
      passed: false,
      detail: `the manifest belongs to ${manifest.snapshotId}, not ${input.snapshotId}`,
    });
  }
  const byKey = new Map((manifest?.tables ?? []).map((t) => [t.key, t]));
  const tables: DrillTableResult[] = [];
  for (const cfg of input.checks.tables) {
    const key = tableKey(cfg.schemaName, cfg.table);
    const state = store.states.get(key);
    const m = byKey.get(key);
    const result: { -readonly [K in keyof DrillTableResult]: DrillTableResult[K] } = {
      key,
      count: state?.count,
      manifestCount: m?.count,
    };
    tables.push(result);
    if (!state || !m) continue;
    if (cfg.noDecrease || cfg.appendOnly) {
      const ok = state.count >= m.count;
      findings.push({
        rule: 'rows-present',
        target: key,
        passed: ok,
        detail: ok
          ? `${state.count} rows >= ${m.count} counted at ${m.countedAt}`
          : `${m.count - state.count} row(s) missing: ${state.count} in the copy, ${m.count} counted at ${m.countedAt} before the snapshot`,
      });
    }
    if (m.fingerprint && state.fingerprint) {
      const s = judgeSchema(key, m.fingerprint, state.fingerprint);
      result.fingerprintMatches = !s.changed;
      findings.push({
        rule: 'schema',
        target: key,
        passed: !s.changed,
        // The changes alone: accepting them is for the live table's checks, not for a restored copy.
        detail: s.changed ? s.changes.join('; ') : 'columns and primary key as at snapshot time',
      });
    }
  }
  for (const key of manifest?.missing ?? []) {
    findings.push({
      rule: 'rows-present',
      target: key,
      passed: true,
      detail: 'no checker baseline at snapshot time: counted, not compared',
    });
  }
  const failedCount = findings.filter((f) => !f.passed).length;
  const finished = clock();
  return {
    passed: failedCount === 0,
    failedCount,
    findings,
    tables,
    durationMs: finished.getTime() - started.getTime(),
    checkedAt: finished.toISOString(),
  };
}

function checkerFinding(r: RuleResult): DrillFinding {
  const rule: DrillRule = r.rule === 'custom' ? 'sentinel' : 'checker';
  return {
    rule,
    target: r.target,
    passed: false,
    detail: `${r.rule}: ${r.value} (expected ${r.threshold}) ${r.detail}`.trim(),
  };
}
