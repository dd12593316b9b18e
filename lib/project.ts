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
