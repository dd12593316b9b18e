import { DescribeAlarmsCommand, type CompositeAlarm, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  judgeChecksSummary,
  readChecksSummary,
  type ChecksSummary,
} from '../../lambda/shared/checks-summary';
import { LOCK_KEY, type LockHolder } from '../../lambda/shared/shift-audit';
import { judgeParity, parseParityGatePairs, PARITY_GATE_PARAMETER } from '../../lambda/shared/parity-gate';
import { readParitySummaries } from '../../lambda/shared/parity-summary';
import type { ShiftContext } from './context';
import type { ShiftDeps } from './deps';
import { EXIT, type ExitCode } from './exit-codes';

export interface AlarmState {
  readonly name: string;
  readonly state: string;
  readonly reason?: string;
  readonly critical: boolean;
  readonly composite: boolean;
}

/** Every alarm of the environment (name prefix), metric and composite, with its state. */
export async function environmentAlarms(deps: ShiftDeps, ctx: ShiftContext): Promise<AlarmState[]> {
  const out = new Map<string, AlarmState>();
  const add = (a: MetricAlarm | CompositeAlarm, composite: boolean) => {
    if (!a.AlarmName) return;
    out.set(a.AlarmName, {
      name: a.AlarmName,
      state: a.StateValue ?? 'INSUFFICIENT_DATA',
      reason: a.StateReason,
      critical:
        (a.AlarmActions ?? []).includes(ctx.criticalTopicArn) || a.AlarmName === ctx.criticalCompositeName,
      composite,
    });
  };
  const query = async (input: { AlarmNamePrefix?: string; AlarmNames?: string[] }) => {
    let NextToken: string | undefined;
    do {
      const page = await deps.cloudwatch.send(
        new DescribeAlarmsCommand({ ...input, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken }),
      );
      for (const a of page.MetricAlarms ?? []) add(a, false);
      for (const a of page.CompositeAlarms ?? []) add(a, true);
      NextToken = page.NextToken;
    } while (NextToken);
  };
  await query({ AlarmNamePrefix: ctx.alarmPrefix });
  if (ctx.criticalCompositeName && !out.has(ctx.criticalCompositeName)) {
    await query({ AlarmNames: [ctx.criticalCompositeName] });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export interface TargetHealthSummary {
  readonly healthy: number;
  readonly total: number;
  readonly states: Record<string, number>;
}

export async function targetHealth(deps: ShiftDeps, targetGroupArn: string): Promise<TargetHealthSummary> {
  const out = await deps.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  const states: Record<string, number> = {};
  for (const d of out.TargetHealthDescriptions ?? []) {
    const s = d.TargetHealth?.State ?? 'unknown';
    states[s] = (states[s] ?? 0) + 1;
  }
  const total = (out.TargetHealthDescriptions ?? []).length;
  return { healthy: states.healthy ?? 0, total, states };
}

/** The lock's holder when it is held and not expired (read only: the dry run and --status). */
export async function peekLock(deps: ShiftDeps, tableName: string): Promise<LockHolder | undefined> {
  const out = await deps.doc.send(
    new GetCommand({ TableName: tableName, Key: LOCK_KEY, ConsistentRead: true }),
  );
  const item = out.Item as (LockHolder & { expiresAt: number }) | undefined;
  if (!item || item.expiresAt * 1000 < deps.clock.now()) return undefined;
  return { owner: item.owner, acquiredAt: item.acquiredAt, expiresAt: item.expiresAt, purpose: item.purpose };
}

export interface ChecksVerdict {
  readonly ok: boolean;
  readonly message: string;
  readonly summary?: ChecksSummary;
}

/** Clean data checks: a summary exists, says ok, and is younger than `maxAgeMs`. */
export async function checksVerdict(
  deps: ShiftDeps,
  tableName: string,
  maxAgeMs: number,
): Promise<ChecksVerdict> {
  const j = judgeChecksSummary(await readChecksSummary(deps.doc, tableName), deps.clock.now(), maxAgeMs);
  if (!j.present) {
    return {
      ok: false,
      message: 'no data-check summary found: has the checker ever run in this environment?',
    };
  }
  const { summary } = j;
  const age = formatDuration(Math.max(0, j.ageMs));
  if (!j.clean) {
    const problems = summary.problems.length > 0 ? `: ${summary.problems.join('; ')}` : '';
    return {
      ok: false,
      summary,
      message: `data checks report ${summary.status} at ${summary.checkedAt} (${age} ago)${problems}`,
    };
  }
  if (!j.fresh) {
    return {
      ok: false,
      summary,
      message: `data-check summary is stale: last run ${summary.checkedAt} (${age} ago, more than ${formatDuration(maxAgeMs)}); is the checker running?`,
    };
  }
  return { ok: true, summary, message: `data checks ok at ${summary.checkedAt} (${age} ago)` };
}

export interface Refusal {
  readonly code: ExitCode;
  readonly gate: 'critical-alarms' | 'green-health' | 'data-checks' | 'lock' | 'weights' | 'parity';
  readonly message: string;
}

export interface PreflightReport {
  readonly alarms: readonly AlarmState[];
  /** Critical alarms and green's own alarms that are in ALARM. */
  readonly blockingAlarms: readonly AlarmState[];
  readonly green?: TargetHealthSummary;
  readonly checks: ChecksVerdict;
  readonly refusals: readonly Refusal[];
  /** Alarms the operator forced past (not a refusal, recorded). */
  readonly forcedPast: readonly string[];
}

/**
 * The gates of a shift, all evaluated (so the operator sees every problem at once); the first refusal's
 * exit code is the command's. `force` lifts the alarm gate only.
 */
export async function preflight(
  deps: ShiftDeps,
  ctx: ShiftContext,
  opts: { readonly targetGreen: number; readonly force: boolean; readonly checksMaxAgeMs: number },
): Promise<PreflightReport> {
  const [alarms, green, checks] = await Promise.all([
    environmentAlarms(deps, ctx),
    opts.targetGreen > 0 ? targetHealth(deps, ctx.target.greenTargetGroupArn) : Promise.resolve(undefined),
    checksVerdict(deps, ctx.tableName, opts.checksMaxAgeMs),
  ]);
  const refusals: Refusal[] = [];
  const blockingAlarms = alarms.filter(
    (a) => a.state === 'ALARM' && (a.critical || ctx.greenAlarmNames.includes(a.name)),
  );
  if (blockingAlarms.length > 0 && !opts.force) {
    refusals.push({
      code: EXIT.CRITICAL_ALARM,
      gate: 'critical-alarms',
      message: `in ALARM: ${blockingAlarms.map((a) => a.name).join(', ')} (fix them, or --force --reason "..." to shift anyway)`,
    });
  }
  if (green && green.healthy === 0) {
    const detail = Object.entries(green.states)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    refusals.push({
      code: EXIT.GREEN_UNHEALTHY,
      gate: 'green-health',
      message: `green has no healthy targets (${green.total === 0 ? 'none registered' : detail}): check the green service`,
    });
  }
  if (!checks.ok)
    refusals.push({ code: EXIT.CHECKS_NOT_CLEAN, gate: 'data-checks', message: checks.message });
  // Parity of the deployed pairs (parameter parity/gate-pairs), when green's weight rises.
  const parityPairs = parseParityGatePairs(
    ctx.deployment.has(PARITY_GATE_PARAMETER) ? ctx.deployment.get(PARITY_GATE_PARAMETER) : undefined,
  );
  const parity =
    parityPairs.length > 0 && opts.targetGreen > 0
      ? judgeParity(parityPairs, await readParitySummaries(deps.doc, ctx.tableName), deps.clock.now())
      : undefined;
  if (parity && !parity.open && !opts.force)
    refusals.push({
      code: EXIT.PARITY_NOT_CLEAN,
      gate: 'parity',
      message: `${parity.problems.map((p) => p.message).join('; ')} (or --force --reason "...")`,
    });
  return {
    alarms,
    blockingAlarms,
    green,
    checks,
    refusals,
    forcedPast: opts.force
      ? [...blockingAlarms.map((a) => a.name), ...(parity?.problems ?? []).map((p) => `parity:${p.pair}`)]
      : [],
  };
}

/** `1h02m03s`, `4m12s`, `9s`. */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}
