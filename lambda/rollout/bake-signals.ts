import { readChecksSummary } from '../shared/checks-summary';
import { readAlarmStates, targetGroupHealth, type GateClients, type GateProblem } from './gates';

/**
 * What a bake watches once green has its new share: the same signals for the CLI shift's bake and the
 * rollout's bake-check task (the auto-rollback hears the same alarms by event). Unlike the gates before an
 * increase, a bake fails only on evidence against green: an alarm in ALARM (`critical-any` included), no
 * healthy green target, or a data-checks run that found a violation. A late or missing checks result
 * does not roll traffic back by itself: the checker's heartbeat alarm is critical, so its silence reaches
 * the bake through `critical-any`.
 */
export interface BakeWatch {
  /** The critical composite and green's alarms. */
  readonly alarmNames: readonly string[];
  /** Alarms forced past (`--force --reason`): their ALARM state does not fail the bake. */
  readonly ignoreAlarms?: readonly string[];
  /** The critical composite alarm (its state is reported under `critical-any`). */
  readonly criticalCompositeName?: string;
  readonly greenTargetGroupArn: string;
  readonly stateTableName: string;
}

export interface BakeSignals {
  /** Alarm name -> state (`OK`, `ALARM`, `INSUFFICIENT_DATA`, or `MISSING`). */
  readonly alarmStates: Record<string, string>;
  /** Watched alarms in ALARM that were not forced past. */
  readonly firing: readonly string[];
  readonly health: { readonly healthy: number; readonly total: number };
  /** Why green fails the bake, by gate id; empty: keep baking. */
  readonly failed: readonly GateProblem[];
}

/** One read of every bake signal (three calls in parallel). */
export async function readBakeSignals(clients: GateClients, watch: BakeWatch): Promise<BakeSignals> {
  const [alarmStates, health, checks] = await Promise.all([
    readAlarmStates(clients.cloudwatch, watch.alarmNames),
    targetGroupHealth(clients.elbv2, watch.greenTargetGroupArn),
    readChecksSummary(clients.doc, watch.stateTableName),
  ]);
  const firing = watch.alarmNames.filter(
    (n) => alarmStates[n] === 'ALARM' && !(watch.ignoreAlarms ?? []).includes(n),
  );
  const failed: GateProblem[] = firing.map((n) => ({
    gate: n === watch.criticalCompositeName ? 'critical-any' : 'alarms',
    message: `alarm ${n} is in ALARM`,
  }));
  if (health.healthy === 0)
    failed.push({
      gate: 'green-health',
      message: `green: no healthy target in its target group (of ${health.total})`,
    });
  if (checks?.status === 'violation')
    failed.push({
      gate: 'data-checks',
      message: `data checks: run at ${checks.checkedAt} found a violation${checks.problems.length > 0 ? `: ${checks.problems.join('; ')}` : ''}`,
    });
  return { alarmStates, firing, health, failed };
}
