import { loadDeployment, type Deployment } from '../deployed';
import type { TrafficTarget } from '../../lambda/shared/traffic';
import { alarmNamePrefix, DEPLOYMENT_KEYS } from '../../lib/project';
import type { ShiftDeps } from './deps';

/** What the environment deployed that the shift needs, read from its SSM parameters. */
export interface ShiftContext {
  readonly envName: string;
  readonly deployment: Deployment;
  readonly target: TrafficTarget;
  readonly tableName: string;
  readonly warningTopicArn: string;
  readonly criticalTopicArn: string;
  /** The composite alarm that is in ALARM while any critical one is (when the alerting stack has it). */
  readonly criticalCompositeName?: string;
  readonly greenAlarmNames: readonly string[];
  readonly blueAlarmNames: readonly string[];
  readonly defaultBakeMs: number;
  readonly preShiftSnapshot: 'when-green-rises-from-zero' | 'always';
  readonly snapshotTimeoutMs: number;
  readonly instanceIdentifier: string;
  /** ECS cluster and service names of the two colors (for --status). */
  readonly services?: { readonly cluster: string; readonly blue: string; readonly green: string };
  /** `pipeline-guardrails-<env>-`: every alarm of the environment starts with it. */
  readonly alarmPrefix: string;
}

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

export async function loadShiftContext(deps: ShiftDeps, envName: string): Promise<ShiftContext> {
  const d = await loadDeployment(deps.ssm, envName);
  const policy = d.has('routing/pre-shift-snapshot')
    ? d.get('routing/pre-shift-snapshot')
    : 'when-green-rises-from-zero';
  return {
    envName,
    deployment: d,
    target: trafficTargetOf(d, envName),
    tableName: d.get(DEPLOYMENT_KEYS.stateTable),
    warningTopicArn: d.get('alerting/warning-topic-arn'),
    criticalTopicArn: d.get('alerting/critical-topic-arn'),
    criticalCompositeName: d.has('alerting/critical-composite-alarm-name')
      ? d.get('alerting/critical-composite-alarm-name')
      : undefined,
    greenAlarmNames: list(d.get('routing/green-alarm-names')),
    blueAlarmNames: d.has('routing/blue-alarm-names') ? list(d.get('routing/blue-alarm-names')) : [],
    defaultBakeMs: Number(d.has('routing/bake-seconds') ? d.get('routing/bake-seconds') : '300') * 1000,
    preShiftSnapshot: policy === 'always' ? 'always' : 'when-green-rises-from-zero',
    snapshotTimeoutMs:
      Number(d.has('routing/snapshot-timeout-minutes') ? d.get('routing/snapshot-timeout-minutes') : '60') *
      60_000,
    instanceIdentifier: d.get('database/instance-identifier'),
    services:
      d.has('routing/cluster-name') &&
      d.has('routing/blue-service-name') &&
      d.has('routing/green-service-name')
        ? {
            cluster: d.get('routing/cluster-name'),
            blue: d.get('routing/blue-service-name'),
            green: d.get('routing/green-service-name'),
          }
        : undefined,
    alarmPrefix: alarmNamePrefix(envName),
  };
}

/** The traffic target from the deployment's parameters (the CLI shift and the plan commands). */
export function trafficTargetOf(d: Deployment, envName: string): TrafficTarget {
  return {
    envName,
    listenerArn: d.get(DEPLOYMENT_KEYS.listenerArn),
    ruleArn: d.get(DEPLOYMENT_KEYS.weightedRuleArn),
    blueTargetGroupArn: d.get(DEPLOYMENT_KEYS.blueTargetGroupArn),
    greenTargetGroupArn: d.get(DEPLOYMENT_KEYS.greenTargetGroupArn),
    stateTableName: d.get(DEPLOYMENT_KEYS.stateTable),
  };
}
