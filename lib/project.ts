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
