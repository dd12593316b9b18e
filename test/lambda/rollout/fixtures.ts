import {
  DescribeAlarmsCommand,
  type CloudWatchClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-cloudwatch';
import type { DescribeRulesCommandOutput } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { PlanState } from '../../../lambda/shared/rollout-control';
import type { TrafficTarget } from '../../../lambda/shared/traffic';

/** Shared test values for the rollout task function, the auto-rollback function and the plan CLI. */
export const TARGET: TrafficTarget = {
  listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/lb/1/2',
  blueTargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/blue/1',
  greenTargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/green/1',
  ruleArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:listener-rule/app/lb/1/2/3',
  envName: 'test',
  stateTableName: 'state-table',
};
export const COMPOSITE = 'pipeline-guardrails-test-critical-any';
export const GREEN_5XX = 'pipeline-guardrails-test-routing-green-error-rate-critical';
export const GREEN_P95 = 'pipeline-guardrails-test-routing-green-latency-p95-critical';
export const ALARMS = [COMPOSITE, GREEN_5XX, GREEN_P95];
export const TABLE = 'state-table';
export const STATE_MACHINE_ARN =
  'arn:aws:states:us-east-1:111111111111:stateMachine:pipeline-guardrails-test-rollout';
export const EXECUTION_ARN =
  'arn:aws:states:us-east-1:111111111111:execution:pipeline-guardrails-test-rollout:plan-1';

/** DescribeRules answer: the weighted rule at these weights, and the blue-only default. */
export function listener(blue: number, green: number): DescribeRulesCommandOutput {
  return {
    $metadata: {},
    Rules: [
      {
        RuleArn: `${TARGET.ruleArn}-default`,
        IsDefault: true,
        Actions: [{ Type: 'forward', TargetGroupArn: TARGET.blueTargetGroupArn }],
      },
      {
        RuleArn: TARGET.ruleArn,
        Priority: '1',
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['*'] } }],
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: TARGET.blueTargetGroupArn, Weight: blue },
                { TargetGroupArn: TARGET.greenTargetGroupArn, Weight: green },
              ],
            },
          },
        ],
      },
    ],
  };
}

/** DescribeAlarms answers: every watched alarm OK, except the given ones. */
export function alarmStates(
  cw: AwsStub<ServiceInputTypes, ServiceOutputTypes, CloudWatchClientResolvedConfig>,
  overrides: Record<string, string> = {},
  names: readonly string[] = ALARMS,
): void {
  const state = (n: string) => overrides[n] ?? 'OK';
  cw.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: names
      .filter((n) => n !== COMPOSITE && overrides[n] !== 'MISSING')
      .map((n) => ({ AlarmName: n, StateValue: state(n) as 'OK' })),
    CompositeAlarms:
      names.includes(COMPOSITE) && overrides[COMPOSITE] !== 'MISSING'
        ? [{ AlarmName: COMPOSITE, StateValue: state(COMPOSITE) as 'OK' }]
        : [],
  });
}

export function planState(overrides: Partial<PlanState> = {}): PlanState {
  return {
    planId: 'plan-1',
    executionArn: EXECUTION_ARN,
    status: 'running',
    phase: 'baking',
    steps: [10, 25, 50, 100],
    stepIndex: 1,
    bakeSeconds: 900,
    weights: { blue: 75, green: 25 },
    actor: 'arn:aws:sts::111111111111:assumed-role/ops/alice',
    startedAt: '2026-11-26T01:00:00.000Z',
    updatedAt: '2026-11-26T01:10:00.000Z',
    bakeStartedAt: '2026-11-26T01:10:00.000Z',
    bakeUntil: '2026-11-26T01:25:00.000Z',
    ...overrides,
  };
}
