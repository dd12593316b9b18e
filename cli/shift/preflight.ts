import { DescribeAlarmsCommand, type CompositeAlarm, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  judgeChecksSummary,
  readChecksSummary,
  type ChecksSummary,
} from '../../lambda/shared/checks-summary';
import { LeaseLostError, LOCK_KEY, type LockHolder } from '../../lambda/shared/shift-audit';
import { parseParityGatePairs, PARITY_GATE_PARAMETER } from '../../lambda/shared/parity-gate';
import {
  evaluateGates,
  type ExtraGate,
  type GateId,
  type GateProblem,
  type GateResult,
} from '../../lambda/rollout/gates';
import { GREEN_ALARM_WINDOW, MIN_BAKE_SECONDS } from '../../lambda/rollout/plan';
import { readWeightsIntent } from '../../lambda/shared/traffic';
import type { ShiftContext } from './context';
import type { ShiftDeps } from './deps';
import { GATE_EXIT, type ExitCode } from './exit-codes';

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
  /** The gate that refused (lambda/rollout/gates.ts's ids), or the pre-shift snapshot. */
  readonly gate: GateId | 'snapshot';
  readonly message: string;
}

export interface PreflightReport {
  readonly alarms: readonly AlarmState[];
  /**
   * Watched alarms in ALARM (the critical composite, green's alarms) and, to say why the composite is,
   * the critical alarms in ALARM behind it.
   */
  readonly blockingAlarms: readonly AlarmState[];
  readonly green?: TargetHealthSummary;
  /** For the printed line when the data-checks gate is open (the gate's own problems when it is closed). */
  readonly checks: ChecksVerdict;
  /** The one gate evaluation (lambda/rollout/gates.ts), as the plan's StepGate and apply tasks run it. */
  readonly gates: GateResult;
  readonly refusals: readonly Refusal[];
  /** What the operator forced past (alarm names, parity problems): not a refusal, recorded. */
  readonly forcedPast: readonly string[];
}

/** The gates in the order their refusals are printed; the first one's exit code is the command's. */
const GATE_ORDER: readonly GateId[] = [
  'lease',
  'critical-any',
  'alarms',
  'green-health',
  'data-checks',
  'parity',
  'evidence',
];

/** The alarms the shift's gates watch: the critical composite and green's alarms (as the plan's gates). */
export function watchedAlarmNames(ctx: ShiftContext, alarms: readonly AlarmState[]): string[] {
  // Without a composite (an alerting stack that predates it), every critical alarm is watched itself.
  const critical = ctx.criticalCompositeName
    ? [ctx.criticalCompositeName]
    : alarms.filter((a) => a.critical).map((a) => a.name);
  return [...new Set([...critical, ...ctx.greenAlarmNames])];
}

/** The lease as a gate: renewed under its fence right now; a lease another writer took closes the gate. */
export function leaseGate(renew: () => Promise<void>): ExtraGate {
  return {
    id: 'lease',
    evaluate: async () => {
      try {
        await renew();
        return [];
      } catch (err) {
        if (err instanceof LeaseLostError) return [err.message];
        throw err;
      }
    },
  };
}

/**
 * The gates of a shift: `evaluateGates` (lambda/rollout/gates.ts, the rollout's own evaluation) with the
 * shift's alarms, checks age, parity pairs and (before the change) its lease, all evaluated so the
 * operator sees every problem at once. `force` lifts the alarm and parity gates only; a shift that
 * lowers green needs no healthy green and no parity.
 */
export async function preflight(
  deps: ShiftDeps,
  ctx: ShiftContext,
  opts: {
    readonly targetGreen: number;
    /** Green's weight now: raising it from above 0 needs evidence (no watched alarm INSUFFICIENT_DATA). */
    readonly currentGreen: number;
    readonly force: boolean;
    readonly checksMaxAgeMs: number;
    /**
     * With `force`: the alarms forced past (those in ALARM at the first preflight); an alarm that fires
     * later still closes the gate. @default every watched alarm
     */
    readonly forcedAlarms?: readonly string[];
    /** The held lease, renewed as one of the gates (the check right before the change). */
    readonly lease?: ExtraGate;
  },
): Promise<PreflightReport> {
  const alarms = await environmentAlarms(deps, ctx);
  const alarmNames = watchedAlarmNames(ctx, alarms);
  // Parity of the deployed pairs (parameter parity/gate-pairs), when green's weight rises.
  const parityPairs =
    opts.targetGreen > 0
      ? parseParityGatePairs(
          ctx.deployment.has(PARITY_GATE_PARAMETER) ? ctx.deployment.get(PARITY_GATE_PARAMETER) : undefined,
        )
      : [];
  const [gates, green, checks] = await Promise.all([
    evaluateGates(
      deps,
      {
        alarmNames,
        checksMaxAgeSeconds: opts.checksMaxAgeMs / 1000,
        stateTableName: ctx.tableName,
        greenTargetGroupArn: ctx.target.greenTargetGroupArn,
        ignoreAlarms: opts.force ? (opts.forcedAlarms ?? alarmNames) : undefined,
        parityPairs,
        criticalCompositeName: ctx.criticalCompositeName,
        extraGates: [
          ...(opts.lease ? [opts.lease] : []),
          ...(opts.targetGreen > opts.currentGreen && opts.currentGreen > 0
            ? [sinceLastRaise(deps, ctx)]
            : []),
        ],
        // Lowering green needs no evidence; raising it from above 0 does (INSUFFICIENT_DATA is never a pass).
        greenWeight: opts.targetGreen > opts.currentGreen ? opts.currentGreen : 0,
      },
      new Date(deps.clock.now()),
    ),
    opts.targetGreen > 0 ? targetHealth(deps, ctx.target.greenTargetGroupArn) : Promise.resolve(undefined),
    checksVerdict(deps, ctx.tableName, opts.checksMaxAgeMs),
  ]);
  const inAlarm = new Set(alarmNames.filter((n) => gates.alarmStates[n] === 'ALARM'));
  const blockingAlarms = alarms.filter(
    (a) =>
      inAlarm.has(a.name) ||
      (inAlarm.has(ctx.criticalCompositeName ?? '') && a.critical && a.state === 'ALARM'),
  );
  const forcedParity = opts.force ? gates.closed.filter((c) => c.gate === 'parity') : [];
  const lifted = (c: GateProblem) =>
    (c.gate === 'green-health' && opts.targetGreen === 0) || forcedParity.includes(c);
  const closed = gates.closed.filter((c) => !lifted(c));
  const refusals = GATE_ORDER.flatMap((gate): Refusal[] => {
    const problems = closed.filter((c) => c.gate === gate).map((c) => c.message);
    if (problems.length === 0) return [];
    return [
      { code: GATE_EXIT[gate], gate, message: refusalText(gate, problems, { ctx, blockingAlarms, green }) },
    ];
  });
  return {
    alarms,
    blockingAlarms,
    green,
    checks,
    gates,
    refusals,
    forcedPast: opts.force
      ? [...blockingAlarms.map((a) => a.name), ...forcedParity.map((p) => p.message)]
      : [],
  };
}

/**
 * Evidence takes time: green's alarms need two one-minute datapoints and the metric delay (the minimum bake)
 * before they can fire, so raising green again sooner (a `--bake 0` shift, then the next one) would pass on
 * alarms that could not yet have spoken. Reads when green was last raised from the record of intent.
 */
function sinceLastRaise(deps: ShiftDeps, ctx: ShiftContext): ExtraGate {
  return {
    id: 'evidence',
    async evaluate(now: Date): Promise<readonly string[]> {
      const raisedAt = (await readWeightsIntent(deps.doc, ctx.tableName))?.greenRaisedAt;
      const raisedMs = raisedAt ? Date.parse(raisedAt) : Number.NaN;
      if (!Number.isFinite(raisedMs)) return [];
      const ageSeconds = Math.floor((now.getTime() - raisedMs) / 1000);
      if (ageSeconds >= MIN_BAKE_SECONDS) return [];
      return [
        `green was raised ${ageSeconds}s ago (${raisedAt}): its alarms need ${MIN_BAKE_SECONDS}s (${GREEN_ALARM_WINDOW.datapointsToAlarm} one-minute datapoints and the metric delay) before they can fire; raise it again in ${MIN_BAKE_SECONDS - ageSeconds}s`,
      ];
    },
  };
}

/** One refusal line per gate: the gate's problems, with what the operator can do about them. */
function refusalText(
  gate: GateId,
  problems: readonly string[],
  r: { ctx: ShiftContext; blockingAlarms: readonly AlarmState[]; green?: TargetHealthSummary },
): string {
  const text = problems.join('; ');
  switch (gate) {
    case 'critical-any': {
      const behind = r.blockingAlarms.filter((a) => a.critical && a.name !== r.ctx.criticalCompositeName);
      const why = behind.length > 0 ? ` (critical in ALARM: ${behind.map((a) => a.name).join(', ')})` : '';
      // --force lifts an alarm in ALARM, never a composite that does not exist.
      const composite = r.blockingAlarms.some((a) => a.name === r.ctx.criticalCompositeName);
      return `${text}${why}${composite ? FORCE_HINT : ''}`;
    }
    case 'alarms':
      return `${text}${r.blockingAlarms.length > 0 ? FORCE_HINT : ''}`;
    case 'green-health': {
      const g = r.green;
      const detail = g
        ? g.total === 0
          ? 'none registered'
          : Object.entries(g.states)
              .map(([s, n]) => `${n} ${s}`)
              .join(', ')
        : undefined;
      return `${text}${detail ? ` (${detail})` : ''}: check the green service`;
    }
    case 'parity':
      return `${text} (or --force --reason "...")`;
    case 'evidence':
      return `${text}: wait until green has served enough requests and its alarms could fire (--force --reason "..." lifts an alarm in INSUFFICIENT_DATA, never the wait)`;
    default:
      return text;
  }
}

const FORCE_HINT = ' (fix them, or --force --reason "..." to shift anyway)';

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
