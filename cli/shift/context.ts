import { loadDeployment, type Deployment } from '../deployed';
import type { TrafficTarget } from '../../lambda/shared/traffic';
import { EVIDENCE_DEFAULTS, MIN_BAKE_SECONDS } from '../../lambda/rollout/plan';
import { alarmNamePrefix, DEPLOYMENT_KEYS } from '../../lib/project';
import type { PlanDeps, ShiftDeps } from './deps';

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

export async function loadShiftContext(deps: Pick<ShiftDeps, 'ssm'>, envName: string): Promise<ShiftContext> {
  const d = await loadDeployment(deps.ssm, envName);
  const policy = d.has('routing/pre-shift-snapshot')
    ? d.get('routing/pre-shift-snapshot')
    : 'when-green-rises-from-zero';
  const alarms = gateAlarmsOf(d);
  return {
    envName,
    deployment: d,
    target: trafficTargetOf(d, envName),
    tableName: d.get(DEPLOYMENT_KEYS.stateTable),
    warningTopicArn: d.get('alerting/warning-topic-arn'),
    criticalTopicArn: d.get('alerting/critical-topic-arn'),
    criticalCompositeName: alarms.criticalCompositeName,
    greenAlarmNames: alarms.greenAlarmNames,
    blueAlarmNames: d.has(DEPLOYMENT_KEYS.blueAlarmNames) ? list(d.get(DEPLOYMENT_KEYS.blueAlarmNames)) : [],
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

/** What the environment deployed that the rollout commands need (cli/shift/plan.ts). */
export interface PlanContext {
  readonly envName: string;
  readonly stateMachineArn: string;
  readonly tableName: string;
  readonly target: TrafficTarget;
  /** The critical composite first (when deployed), then green's alarms: what the plan's gates watch. */
  readonly alarmNames: string[];
  readonly checksMaxAgeSeconds: number;
  readonly checkIntervalSeconds: number;
  readonly defaultBakeSeconds: number;
  readonly warningTopicArn: string;
  /** Evidence before promotion, as the state machine's task function applies it. */
  readonly evidence: { minBakeSeconds: number; minRequestsPerStep: number; evidenceWaitSeconds: number };
}

export async function loadPlanContext(deps: Pick<PlanDeps, 'ssm'>, envName: string): Promise<PlanContext> {
  const d = await loadDeployment(deps.ssm, envName);
  const alarms = gateAlarmsOf(d);
  const num = (key: string, fallback: number) => (d.has(key) ? Number(d.get(key)) : fallback);
  return {
    envName,
    stateMachineArn: d.get(DEPLOYMENT_KEYS.stateMachineArn),
    tableName: d.get(DEPLOYMENT_KEYS.stateTable),
    target: trafficTargetOf(d, envName),
    alarmNames: [
      ...(alarms.criticalCompositeName ? [alarms.criticalCompositeName] : []),
      ...alarms.greenAlarmNames,
    ],
    checksMaxAgeSeconds: num('rollout/checks-max-age-seconds', 900),
    checkIntervalSeconds: num('rollout/check-interval-seconds', 30),
    defaultBakeSeconds: num('routing/bake-seconds', 300),
    warningTopicArn: d.get('alerting/warning-topic-arn'),
    evidence: {
      minBakeSeconds: MIN_BAKE_SECONDS,
      ...EVIDENCE_DEFAULTS,
      ...(d.has(DEPLOYMENT_KEYS.rolloutEvidence)
        ? (JSON.parse(d.get(DEPLOYMENT_KEYS.rolloutEvidence)) as Partial<PlanContext['evidence']>)
        : {}),
    },
  };
}

/** The alarms every traffic gate watches, as the deployment published them. */
function gateAlarmsOf(d: Deployment): { criticalCompositeName?: string; greenAlarmNames: string[] } {
  return {
    criticalCompositeName: d.has(DEPLOYMENT_KEYS.criticalComposite)
      ? d.get(DEPLOYMENT_KEYS.criticalComposite)
      : undefined,
    greenAlarmNames: list(d.get(DEPLOYMENT_KEYS.greenAlarmNames)),
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
