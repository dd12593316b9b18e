/**
 * Guardrails whose data another capability is building (restore drills, blue/green parity, the automatic
 * rollback's armed window). `status` reads them only through these functions, so connecting one is a change
 * here and nowhere else: return `{ available: true, value }` from the capability's own reader. Until then
 * each answers "not available" with why, and `status` shows that (it never guesses a value).
 */
import { judgeParity, parseParityGatePairs, PARITY_GATE_PARAMETER } from '../../lambda/shared/parity-gate';
import { readParitySummaries } from '../../lambda/shared/parity-summary';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  DRILL_LATEST_SK,
  DRILL_RESULT_PK,
  DRILL_STATE_MACHINE_PARAMETER,
} from '../../lambda/restore-drill/names';
import {
  AUTO_ROLLBACK_PARAMETER,
  readArming,
  type DeployedPolicy,
} from '../../lambda/shared/auto-rollback-policy';
import type { Deployment } from '../deployed';
import type { StatusDeps } from './sections';

/** A value, or why there is none: not built yet, not configured in this environment, or no run so far. */
export type Availability<T> =
  | { readonly available: true; readonly value: T }
  | {
      readonly available: false;
      readonly why: 'not-built' | 'not-configured' | 'no-data';
      readonly detail: string;
    };

export interface RestoreDrillResult {
  /** ISO time the drill finished. */
  readonly at: string;
  readonly outcome: 'passed' | 'failed';
  /** The snapshot restored. */
  readonly snapshotId?: string;
  /** e.g. "restored in 14m, 40/40 tables, counts within 0.1%". */
  readonly detail?: string;
}

export interface ParityResult {
  /** ISO time of the comparison. */
  readonly at: string;
  readonly outcome: 'match' | 'mismatch' | 'error';
  /** Share of compared outputs that matched, 0 to 100. */
  readonly matchedPercent?: number;
  readonly detail?: string;
}

export interface AutoRollbackArming {
  readonly armed: boolean;
  /** ISO time the armed window ends, when it has one (armed: the watch window; disarmed: when it ended). */
  readonly until?: string;
  readonly detail?: string;
  /** Why, as the auto-rollback function judges it (lambda/shared/auto-rollback-policy.ts). */
  readonly because?: string;
  readonly watchHours?: number;
  readonly triggers?: readonly string[];
}

export interface AdapterContext {
  readonly envName: string;
  readonly deployment: Deployment;
  readonly deps: StatusDeps;
  readonly nowMs: number;
}

/** The last restore drill: what its record task wrote (state table, pk drill#result, sk latest). */
export async function readRestoreDrill(ctx: AdapterContext): Promise<Availability<RestoreDrillResult>> {
  if (
    !ctx.deployment.has(DRILL_STATE_MACHINE_PARAMETER.join('/')) ||
    !ctx.deployment.has('state/table-name')
  ) {
    return {
      available: false,
      why: 'not-configured',
      detail: 'no restore drill is deployed (snapshots.drill)',
    };
  }
  const out = await ctx.deps.doc.send(
    new GetCommand({
      TableName: ctx.deployment.get('state/table-name'),
      Key: { pk: DRILL_RESULT_PK, sk: DRILL_LATEST_SK },
      ConsistentRead: true,
    }),
  );
  const item = out.Item as
    | {
        outcome?: string;
        finishedAt?: string;
        snapshotId?: string;
        restoreSeconds?: number;
        checksFailed?: number;
        error?: string;
        instanceDeleted?: boolean;
      }
    | undefined;
  if (!item?.finishedAt) return { available: false, why: 'no-data', detail: 'no restore drill has run yet' };
  const passed = item.outcome === 'succeeded';
  const parts = [
    item.restoreSeconds !== undefined ? `restored in ${Math.round(item.restoreSeconds / 60)}m` : undefined,
    item.checksFailed ? `${item.checksFailed} check(s) failed` : undefined,
    passed ? undefined : `${item.outcome ?? 'unknown outcome'}${item.error ? `: ${item.error}` : ''}`,
    item.instanceDeleted === false ? 'DRILL INSTANCE NOT DELETED' : undefined,
  ].filter(Boolean);
  return {
    available: true,
    value: {
      at: item.finishedAt,
      outcome: passed && item.instanceDeleted !== false ? 'passed' : 'failed',
      ...(item.snapshotId ? { snapshotId: item.snapshotId } : {}),
      ...(parts.length > 0 ? { detail: parts.join(', ') } : {}),
    },
  };
}

/**
 * The latest blue-vs-green output parity of every configured pair, judged as the shift's parity gate judges
 * it (lambda/shared/parity-gate.ts): a match only when every pair has a fresh result within maxDifferences.
 */
export async function readParity(ctx: AdapterContext): Promise<Availability<ParityResult>> {
  const pairs = ctx.deployment.has(PARITY_GATE_PARAMETER)
    ? parseParityGatePairs(ctx.deployment.get(PARITY_GATE_PARAMETER))
    : [];
  if (pairs.length === 0 || !ctx.deployment.has('state/table-name')) {
    return {
      available: false,
      why: 'not-configured',
      detail: 'no parity pair is configured in this environment',
    };
  }
  const summaries = await readParitySummaries(ctx.deps.doc, ctx.deployment.get('state/table-name'));
  const configured = summaries.filter((s) => pairs.some((p) => p.name === s.pair));
  if (configured.length === 0) {
    return {
      available: false,
      why: 'no-data',
      detail: 'no parity result recorded yet (has the parity function run?)',
    };
  }
  const decision = judgeParity(pairs, configured, ctx.nowMs);
  const oldest = configured.map((s) => s.checkedAt).sort()[0]!;
  const errored = configured.some((s) => s.status === 'error');
  return {
    available: true,
    value: {
      at: oldest,
      outcome: decision.open ? 'match' : errored ? 'error' : 'mismatch',
      detail: decision.open
        ? `${configured.length} of ${pairs.length} pair(s) within maxDifferences`
        : decision.problems.map((p) => p.message).join('; '),
    },
  };
}

/** Whether the automatic rollback would act now (its armed window). */
export async function readAutoRollbackArming(ctx: AdapterContext): Promise<Availability<AutoRollbackArming>> {
  if (!ctx.deployment.has('rollout/state-machine-arn')) {
    return {
      available: false,
      why: 'not-configured',
      detail: 'no progressive rollout (and so no automatic rollback) is deployed in this environment',
    };
  }
  if (!ctx.deployment.has(AUTO_ROLLBACK_PARAMETER) || !ctx.deployment.has('state/table-name')) {
    return {
      available: false,
      why: 'not-built',
      detail: `the deployed stack does not publish ${AUTO_ROLLBACK_PARAMETER} (deployed by an older version: redeploy)`,
    };
  }
  const policy = JSON.parse(ctx.deployment.get(AUTO_ROLLBACK_PARAMETER)) as DeployedPolicy;
  // The same facts and the same judgement as the function: the lease, the plan item, the record of intent.
  const arming = await readArming(
    ctx.deps.doc,
    ctx.deployment.get('state/table-name'),
    policy.watchHours,
    ctx.nowMs,
  );
  return {
    available: true,
    value: {
      armed: arming.armed,
      ...(arming.armed
        ? arming.until
          ? { until: arming.until }
          : {}
        : arming.endedAt
          ? { until: arming.endedAt }
          : {}),
      detail: arming.detail,
      because: arming.because,
      watchHours: policy.watchHours,
      triggers: policy.triggers,
    },
  };
}
