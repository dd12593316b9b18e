/** Names shared by the CDK app, the Lambda handlers and the command-line tools. */
export const PROJECT = 'pipeline-guardrails';

/** CloudWatch namespace every custom metric of this project is published in. */
export const METRIC_NAMESPACE = 'PipelineGuardrails';

/**
 * Green's share of traffic in percent, published (dimension `Environment`) by every writer of the weights on
 * every change; the dashboard graphs its history.
 */
export const GREEN_WEIGHT_METRIC = 'GreenWeightPercent';

/** The environments this app knows. Each has a file in lib/config/environments/. */
export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** `<project>-<env>`: the prefix of every physical name this app creates. */
export function resourcePrefix(envName: string): string {
  return `${PROJECT}-${envName}`;
}

/** SSM parameter path under which an environment publishes what it deployed (for the CLIs). */
export function parameterPath(envName: string, ...parts: string[]): string {
  return ['', PROJECT, envName, ...parts].join('/');
}

/**
 * The deployment's shared names (one registry, imported by lib/, lambda/ and cli/): the SSM keys under
 * `parameterPath(env)` a construct publishes and a CLI reads, the state-table keys several writers share,
 * and the metric every weight change publishes. test/lib/project-names.test.ts checks that what the
 * constructs publish is what the readers read.
 */
export const DEPLOYMENT_KEYS = {
  stateTable: 'state/table-name',
  listenerArn: 'routing/listener-arn',
  /** The weighted forward rule (created by a custom resource, never a CloudFormation-managed action). */
  weightedRuleArn: 'routing/weighted-rule-arn',
  blueTargetGroupArn: 'routing/blue-target-group-arn',
  greenTargetGroupArn: 'routing/green-target-group-arn',
  greenAlarmNames: 'routing/green-alarm-names',
  blueAlarmNames: 'routing/blue-alarm-names',
  stateMachineArn: 'rollout/state-machine-arn',
  /** The plan's evidence settings (JSON: minBakeSeconds, minRequestsPerStep, evidenceWaitSeconds). */
  rolloutEvidence: 'rollout/evidence',
  criticalComposite: 'alerting/critical-composite-alarm-name',
} as const;

/** Partition/sort keys of the state-table items the traffic writers share. */
export const STATE_KEYS = {
  /** The traffic lease (one writer at a time, renewed, fenced by its lease id). */
  lease: { pk: 'shift#lock', sk: 'lock' },
  /** The one record of intent of the weights (versioned, with the operation id that wrote it). */
  weightsIntent: { pk: 'routing#weights', sk: 'current' },
  /** The current rollout plan. */
  plan: { pk: 'rollout#plan', sk: 'current' },
  /** Audit entries of every traffic change: pk only, sk `<ISO time>#<id>`. */
  auditPk: 'shift#audit',
} as const;

/** The dimension of GREEN_WEIGHT_METRIC (value: the environment name). */
export const ENVIRONMENT_DIMENSION = 'Environment';

/**
 * Alarm names: `<project>-<env>-<area>-<what>`. The environment and the area are one kebab segment each
 * (no hyphen), `what` is kebab-case, so `parseAlarmName` recovers all three from any name `alarmName`
 * builds. Built by lib/constructs/alarm-factory.ts for every alarm; parsed by the readers (the shift's
 * status, the auto-rollback, the status command) to tell an environment's alarms and their area apart.
 */
export interface AlarmNameParts {
  readonly envName: string;
  /** Capability the alarm belongs to: `checks`, `routing`, `service`, ..., `critical` (the composite). */
  readonly area: string;
  /** What is watched, kebab-case: `rows-lost-games`, `green-error-rate-critical`, `any`. */
  readonly what: string;
}

/** One segment of an alarm name that parses back: the environment, the area. */
export const ALARM_NAME_SEGMENT = /^[a-z0-9]+$/;
/** The `what` of an alarm name: kebab-case. */
export const ALARM_NAME_WHAT = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** The one alarm-name builder: `<project>-<env>-<area>-<what>` (validation: the alarm factory's). */
export function alarmName(envName: string, area: string, what: string): string {
  return `${alarmNamePrefix(envName)}${area}-${what}`;
}

/** `<project>-<env>-`: every alarm of the environment starts with it (DescribeAlarms' AlarmNamePrefix). */
export function alarmNamePrefix(envName: string, area?: string): string {
  return `${resourcePrefix(envName)}-${area === undefined ? '' : `${area}-`}`;
}

/** The inverse of `alarmName`: the parts of a name this app built, or undefined for any other name. */
export function parseAlarmName(name: string): AlarmNameParts | undefined {
  if (!name.startsWith(`${PROJECT}-`)) return undefined;
  const [envName, area, ...rest] = name.slice(PROJECT.length + 1).split('-');
  const what = rest.join('-');
  if (envName === undefined || area === undefined) return undefined;
  if (!ALARM_NAME_SEGMENT.test(envName) || !ALARM_NAME_SEGMENT.test(area) || !ALARM_NAME_WHAT.test(what))
    return undefined;
  return { envName, area, what };
}

/** The area and what of the environment's "anything critical" composite alarm. */
export const CRITICAL_COMPOSITE_ALARM = { area: 'critical', what: 'any' } as const;

/** `<project>-<env>-critical-any`: in ALARM while any critical alarm of the environment is. */
export function criticalCompositeAlarmName(envName: string): string {
  return alarmName(envName, CRITICAL_COMPOSITE_ALARM.area, CRITICAL_COMPOSITE_ALARM.what);
}
