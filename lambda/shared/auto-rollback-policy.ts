import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ACTIVE_PLAN_STATUSES, readPlanState, type PlanState } from './rollout-control';
import { readLease, type LockHolder } from './shift-audit';
import { readWeightsIntent, type WeightsIntent } from './traffic';

/**
 * The automatic rollback's policy, shared by the CDK app (which alarms the rule matches), the auto-rollback
 * function (whether it may move traffic now) and `status` (armed or not, until when):
 * - **triggers**: green's failures only, by class (`routing.autoRollback.triggers`); blue's own alarms and the
 *   database's health close the gates for an increase but never move traffic;
 * - **armed** only during a cutover: while a shift or a plan holds the traffic lease (its prompt, snapshot,
 *   bake) or a plan is active, and for `watchHours` after green's last increase (`greenRaisedAt` in the
 *   record of intent, written by the writer that raised green, so the window is exact).
 */

/** What can take green out of traffic. Each class names the alarms of the app that belong to it. */
export const TRIGGER_CLASSES = [
  /** `routing-green-error-rate`: green answers errors above the service level. */
  'green-error-rate',
  /** `routing-green-latency-p95`: green's p95 above the service level. */
  'green-latency',
  /** `service-green-healthy-tasks-warning` (desiredCount > 1) and `routing-green-unhealthy-hosts`. */
  'green-tasks-below-desired',
  /** `service-green-healthy-tasks-critical`: no healthy green target behind the load balancer. */
  'green-no-healthy-target',
  /** `checks-rows-lost-<table>` of tables with noDecrease. */
  'rows-lost',
  /** `checks-rows-lost-<table>` of tables with appendOnly (the same alarm: one page per loss). */
  'append-only',
  /** `checks-below-floor-<table>`. */
  'below-floor',
  /** `checks-schema-changed-<table>`. */
  'schema',
  /** `parity-differences-<pair>`: green's output differs from blue's. */
  'parity',
] as const;
export type TriggerClass = (typeof TRIGGER_CLASSES)[number];

/** Every class: green's service levels and target health, the data-loss rules and output parity. */
export const DEFAULT_TRIGGERS: readonly TriggerClass[] = TRIGGER_CLASSES;

/** `routing.autoRollback.watchHours` when an environment does not set it. */
export const DEFAULT_WATCH_HOURS = 24;

/** Deployment parameter (under parameterPath(env)) with the deployed policy, JSON `DeployedPolicy`. */
export const AUTO_ROLLBACK_PARAMETER = 'rollout/auto-rollback-policy';

/** What the stack deploys: read by `status` (the function gets the same values as environment variables). */
export interface DeployedPolicy {
  readonly watchHours: number;
  readonly triggers: readonly TriggerClass[];
}

/** A trigger alarm: its exact name and class. */
export interface TriggerAlarm {
  readonly alarmName: string;
  readonly triggerClass: TriggerClass;
}

/**
 * The function's compact form of the trigger list (an environment variable: Lambda allows 4 KB for all of
 * them): `{ class: [alarm-name suffix after "<prefix>-", ...] }`.
 */
export function encodeTriggers(prefix: string, triggers: readonly TriggerAlarm[]): string {
  const out: Partial<Record<TriggerClass, string[]>> = {};
  for (const t of triggers) {
    const suffix = t.alarmName.startsWith(`${prefix}-`) ? t.alarmName.slice(prefix.length + 1) : t.alarmName;
    (out[t.triggerClass] ??= []).push(suffix);
  }
  return JSON.stringify(out);
}

/** The inverse of `encodeTriggers`: alarm name -> classes (an alarm may belong to two, e.g. rows-lost). */
export function decodeTriggers(prefix: string, encoded: string): ReadonlyMap<string, TriggerClass[]> {
  const parsed = JSON.parse(encoded) as Record<string, unknown>;
  const map = new Map<string, TriggerClass[]>();
  for (const [cls, suffixes] of Object.entries(parsed)) {
    if (!(TRIGGER_CLASSES as readonly string[]).includes(cls) || !Array.isArray(suffixes))
      throw new Error(`TRIGGERS: ${JSON.stringify(cls)} is not a trigger class with a list of alarms`);
    for (const s of suffixes) {
      const name = `${prefix}-${String(s)}`;
      map.set(name, [...(map.get(name) ?? []), cls as TriggerClass]);
    }
  }
  return map;
}

/** Why the auto-rollback may act now, or why not. */
export type Arming =
  | {
      readonly armed: true;
      readonly because: 'plan-active' | 'lease-held' | 'watch-window' | 'unknown';
      /** End of the watch window after green's last increase (when known). */
      readonly until?: string;
      readonly detail: string;
    }
  | {
      readonly armed: false;
      readonly because: 'no-increase-recorded' | 'window-ended';
      /** When the watch window ended (when there was one). */
      readonly endedAt?: string;
      readonly detail: string;
    };

export interface ArmingFacts {
  readonly lease?: LockHolder;
  readonly plan?: PlanState;
  readonly intent?: WeightsIntent;
  readonly watchHours: number;
  readonly nowMs: number;
}

/** Judges the armed window from what the writers recorded (pure: tested without AWS). */
export function judgeArming(f: ArmingFacts): Arming {
  const raised = f.intent?.greenRaisedAt;
  const raisedMs = raised ? Date.parse(raised) : Number.NaN;
  const windowEnd = Number.isFinite(raisedMs) ? raisedMs + f.watchHours * 3_600_000 : undefined;
  const until = windowEnd !== undefined ? new Date(windowEnd).toISOString() : undefined;
  const untilPart = windowEnd !== undefined && windowEnd > f.nowMs ? { until } : {};
  if (f.plan && ACTIVE_PLAN_STATUSES.includes(f.plan.status)) {
    return {
      armed: true,
      because: 'plan-active',
      ...untilPart,
      detail: `rollout plan ${f.plan.planId} is ${f.plan.status}, then ${f.watchHours}h after green's last increase`,
    };
  }
  if (f.lease) {
    return {
      armed: true,
      because: 'lease-held',
      ...untilPart,
      detail: `the traffic lease is held by ${f.lease.owner} ("${f.lease.purpose}"), then ${f.watchHours}h after green's last increase`,
    };
  }
  if (windowEnd !== undefined && windowEnd > f.nowMs) {
    return {
      armed: true,
      because: 'watch-window',
      until: until!,
      detail: `${f.watchHours}h watch window after green's last increase (${raised})`,
    };
  }
  if (windowEnd === undefined) {
    return {
      armed: false,
      because: 'no-increase-recorded',
      detail: 'no increase of green is recorded and no cutover is running: alarms page, traffic is not moved',
    };
  }
  return {
    armed: false,
    because: 'window-ended',
    endedAt: until,
    detail: `green's last increase was at ${raised}; the ${f.watchHours}h watch window ended at ${until} and no cutover is running: alarms page, traffic is not moved`,
  };
}

/** Reads the facts (lease, plan item, record of intent: consistent reads) and judges them. */
export async function readArming(
  doc: DynamoDBDocumentClient,
  tableName: string,
  watchHours: number,
  nowMs: number,
): Promise<Arming> {
  const [lease, plan, intent] = await Promise.all([
    readLease(doc, tableName),
    readPlanState(doc, tableName),
    readWeightsIntent(doc, tableName),
  ]);
  return judgeArming({ lease, plan, intent, watchHours, nowMs });
}
