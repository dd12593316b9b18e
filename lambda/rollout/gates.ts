import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { judgeChecksSummary, readChecksSummary } from '../shared/checks-summary';
import {
  judgeParity,
  PARITY_GATE_ENV,
  parseParityGatePairs,
  type ParityGatePair,
} from '../shared/parity-gate';
import { readParitySummaries } from '../shared/parity-summary';

/**
 * The gates in front of every step of a rollout plan (and of the CLI's preflight, which runs the same
 * code): no watched alarm in ALARM, the data checks clean and recent, green with a healthy target.
 * A gate that cannot be evaluated (alarm missing, no checks result) is closed: the safe answer is "not now".
 */
export interface GateConfig {
  /** The critical composite alarm and green's service-level alarms. */
  readonly alarmNames: readonly string[];
  /** Oldest acceptable data-checks result. */
  readonly checksMaxAgeSeconds: number;
  readonly stateTableName: string;
  /** Green's target group: must have at least one healthy target. */
  readonly greenTargetGroupArn: string;
  /** Alarms an operator forced past (`--force --reason`): their ALARM state does not close the gate. */
  readonly ignoreAlarms?: readonly string[];
  /** Parity pairs that must be clean and fresh. @default env PARITY_GATE_PAIRS (JSON), else none */
  readonly parityPairs?: readonly ParityGatePair[];
  /** The critical composite alarm (its problems are reported under the `critical-any` gate). */
  readonly criticalCompositeName?: string;
  /** Gates beyond the built-in ones (see ExtraGate). */
  readonly extraGates?: readonly ExtraGate[];
  /**
   * Green's weight now. At 0 green has served nothing, so a watched alarm in INSUFFICIENT_DATA is expected
   * and does not close the gate (the first step needs no evidence from green). Above 0, or unknown
   * (undefined), INSUFFICIENT_DATA closes the `evidence` gate: not enough evidence is never a pass.
   */
  readonly greenWeight?: number;
  /**
   * A person promoted a paused step (`shift --promote`): missing evidence does not close the gate for this
   * increase (alarms in ALARM still do). The text says who, for the messages.
   */
  readonly evidenceWaivedBy?: string;
}

export interface GateClients {
  readonly cloudwatch: CloudWatchClient;
  readonly doc: DynamoDBDocumentClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
}

/**
 * The gates, by id. One evaluation (`evaluateGates`) serves the CLI shift, the plan's StepGate and apply
 * tasks, and the plan command's local check; further gates (output parity) plug in as `extraGates`
 * with their own id added here.
 */
export type GateId =
  | 'alarms'
  | 'critical-any'
  /** Closed for lack of evidence (an alarm in INSUFFICIENT_DATA, too few requests), not for an alarm. */
  | 'evidence'
  | 'green-health'
  | 'data-checks'
  | 'lease'
  | 'parity';

/** Whether an alarm state shows evidence that green is fine (only OK does). */
export function isEvidence(state: string | undefined): boolean {
  return state === 'OK';
}

/** The watched alarms with no evidence either way (INSUFFICIENT_DATA), minus those forced past. */
export function alarmsWithoutEvidence(
  states: Record<string, string>,
  ignore: readonly string[] = [],
): string[] {
  return Object.entries(states)
    .filter(([n, s]) => s === 'INSUFFICIENT_DATA' && !ignore.includes(n))
    .map(([n]) => n);
}

export interface GateProblem {
  readonly gate: GateId;
  readonly message: string;
  /** The alarm a problem is about (alarm, composite and evidence problems), as decisions need it. */
  readonly alarm?: string;
}

/** A gate beyond the built-in ones: evaluated with them, its problems close the gate the same way. */
export interface ExtraGate {
  readonly id: GateId;
  evaluate(now: Date): Promise<readonly string[]>;
}

export interface GateResult {
  readonly open: boolean;
  /** One line per closed gate, naming what and why. */
  readonly problems: string[];
  /** The same problems with the gate each belongs to (decisions branch on these, never on text). */
  readonly closed: readonly GateProblem[];
  /** Alarm name -> state (`OK`, `ALARM`, `INSUFFICIENT_DATA`, or `MISSING`). */
  readonly alarmStates: Record<string, string>;
}

export class GateClosedError extends Error {
  constructor(readonly problems: string[]) {
    super(`gate closed: ${problems.join('; ')}`);
    this.name = 'GateClosed';
  }
}

/**
 * Only the `evidence` gate is closed (a watched alarm in INSUFFICIENT_DATA with green in traffic): not a
 * failure of green. The rollout goes back to its bake loop, which waits for evidence and then pauses for a
 * person; it never rolls back for missing evidence alone.
 */
export class EvidenceMissingError extends Error {
  constructor(readonly problems: string[]) {
    super(`not enough evidence: ${problems.join('; ')}`);
    this.name = 'EvidenceMissing';
  }
}

export class GreenUnhealthyError extends Error {
  constructor(readonly total: number) {
    super(`green has no healthy target (of ${total}) in its target group`);
    this.name = 'GreenUnhealthy';
  }
}

/** Healthy and total targets of a target group. */
export async function targetGroupHealth(
  elbv2: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
): Promise<{ healthy: number; total: number }> {
  const out = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  const all = out.TargetHealthDescriptions ?? [];
  return { healthy: all.filter((t) => t.TargetHealth?.State === 'healthy').length, total: all.length };
}

export class AlarmFiringError extends Error {
  constructor(readonly alarms: string[]) {
    super(`alarm in ALARM: ${alarms.join(', ')}`);
    this.name = 'AlarmFiring';
  }
}

/**
 * States of the named alarms (metric and composite); a name CloudWatch does not know is `MISSING`.
 * Used by the rollout's gates and bake checks and by the shift command's bake.
 */
export async function readAlarmStates(
  cloudwatch: CloudWatchClient,
  names: readonly string[],
): Promise<Record<string, string>> {
  const states: Record<string, string> = {};
  for (const n of names) states[n] = 'MISSING';
  // DescribeAlarms takes at most 100 names per call.
  for (let i = 0; i < names.length; i += 100) {
    let NextToken: string | undefined;
    do {
      const out = await cloudwatch.send(
        new DescribeAlarmsCommand({
          AlarmNames: names.slice(i, i + 100),
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          NextToken,
        }),
      );
      for (const a of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (a.AlarmName) states[a.AlarmName] = a.StateValue ?? 'INSUFFICIENT_DATA';
      }
      NextToken = out.NextToken;
    } while (NextToken);
  }
  return states;
}

export function alarmsInAlarm(states: Record<string, string>): string[] {
  return Object.entries(states)
    .filter(([, s]) => s === 'ALARM')
    .map(([n]) => n);
}

export async function evaluateGates(
  clients: GateClients,
  config: GateConfig,
  now: Date = new Date(),
): Promise<GateResult> {
  const closed: GateProblem[] = [];
  const close = (gate: GateId, message: string, alarm?: string) =>
    closed.push({ gate, message, ...(alarm === undefined ? {} : { alarm }) });

  const [alarmStates, summary, health, extra] = await Promise.all([
    readAlarmStates(clients.cloudwatch, config.alarmNames),
    readChecksSummary(clients.doc, config.stateTableName),
    clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: config.greenTargetGroupArn })),
    Promise.all((config.extraGates ?? []).map(async (g) => ({ id: g.id, problems: await g.evaluate(now) }))),
  ]);

  for (const [name, state] of Object.entries(alarmStates)) {
    const gate: GateId = name === config.criticalCompositeName ? 'critical-any' : 'alarms';
    if (state === 'ALARM' && !config.ignoreAlarms?.includes(name))
      close(gate, `alarm ${name} is in ALARM`, name);
    if (state === 'MISSING') close(gate, `alarm ${name} does not exist (is the environment deployed?)`, name);
  }
  const evidenceRequired = config.greenWeight !== 0 && config.evidenceWaivedBy === undefined;
  if (evidenceRequired) {
    for (const name of alarmsWithoutEvidence(alarmStates, config.ignoreAlarms)) {
      close(
        'evidence',
        `alarm ${name} is INSUFFICIENT_DATA: not enough evidence that green is fine (too few requests a minute, or no data yet)`,
        name,
      );
    }
  }

  const checks = judgeChecksSummary(summary, now.getTime(), config.checksMaxAgeSeconds * 1000);
  if (!checks.present) {
    close('data-checks', 'data checks: no result recorded yet (has the checker run?)');
  } else {
    const { summary: s } = checks;
    if (!checks.clean) {
      const detail = s.problems.length > 0 ? `: ${s.problems.join('; ')}` : '';
      close('data-checks', `data checks: last run (${s.checkedAt}) reported ${s.status}${detail}`);
    }
    if (!checks.fresh) {
      const ageSeconds = Math.round(checks.ageMs / 1000);
      close(
        'data-checks',
        `data checks: last result is from ${s.checkedAt} (${Number.isFinite(ageSeconds) ? `${ageSeconds}s` : 'unknown'} ago), expected one within ${config.checksMaxAgeSeconds}s`,
      );
    }
  }

  const healthy = (health.TargetHealthDescriptions ?? []).filter(
    (t) => t.TargetHealth?.State === 'healthy',
  ).length;
  if (healthy === 0) close('green-health', 'green: no healthy target in its target group');
  for (const e of extra) for (const m of e.problems) close(e.id, m);

  const parityPairs = config.parityPairs ?? parseParityGatePairs(process.env[PARITY_GATE_ENV]);
  if (parityPairs.length > 0) {
    const parity = judgeParity(
      parityPairs,
      await readParitySummaries(clients.doc, config.stateTableName),
      now.getTime(),
    );
    for (const p of parity.problems) close('parity', p.message);
  }

  return { open: closed.length === 0, problems: closed.map((c) => c.message), closed, alarmStates };
}
