import { createHash } from 'node:crypto';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as ce from 'aws-cdk-lib/aws-ce';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { CostConfig } from '../config/sections/cost';
import { PROJECT } from '../project';

export interface CostGuardrailsProps {
  readonly envName: string;
  readonly config: CostConfig;
  /** `<project>-<env>`, prefix of the budget, monitor and subscription names. */
  readonly namePrefix: string;
  /** Where the budget and anomaly notices go (the warning topic: cost is mail, not a page). */
  readonly topic: sns.ITopic;
}

/** A budget notification: `ACTUAL` or `FORECASTED` spend above a percentage of the budget. */
export interface BudgetThreshold {
  readonly type: 'ACTUAL' | 'FORECASTED';
  readonly percent: number;
}

/** Actual 80% (early warning), actual 100% (over budget), forecast 100% (on course to be over). */
export const BUDGET_THRESHOLDS: readonly BudgetThreshold[] = [
  { type: 'ACTUAL', percent: 80 },
  { type: 'ACTUAL', percent: 100 },
  { type: 'FORECASTED', percent: 100 },
];

/**
 * The environment's cost guardrails (CloudFormation has only L1 resources for them):
 * - an AWS Budgets monthly COST budget of `cost.monthlyBudgetUsd` on the resources tagged `Project` and
 *   `Environment` (both tags must be activated as cost allocation tags in the Billing console of the payer
 *   account, or the budget sees nothing), mailing the warning topic at each BUDGET_THRESHOLDS;
 * - a Cost Anomaly Detection monitor on the `Project` tag and an IMMEDIATE subscription (the only frequency SNS
 *   accepts) for anomalies of at least `cost.anomalyThresholdUsd`, to the same topic.
 *
 * Changing a budget's notifications makes CloudFormation REPLACE the budget, and a replacement with the same
 * name fails ("already exists"). The name therefore ends in a hash of the notification settings: a changed
 * threshold gives a new name, so the replacement succeeds (the new budget starts with this month's spend).
 */
export class CostGuardrails extends Construct {
  readonly budget: budgets.CfnBudget;
  readonly anomalyMonitor: ce.CfnAnomalyMonitor;
  readonly anomalySubscription: ce.CfnAnomalySubscription;
  readonly budgetName: string;

  constructor(scope: Construct, id: string, props: CostGuardrailsProps) {
    super(scope, id);
    const cfg = props.config;
    const notifications = BUDGET_THRESHOLDS.map((t) => ({
      notification: {
        notificationType: t.type,
        comparisonOperator: 'GREATER_THAN',
        threshold: t.percent,
        thresholdType: 'PERCENTAGE',
      },
      subscribers: [{ subscriptionType: 'SNS', address: props.topic.topicArn }],
    }));
    this.budgetName = `${props.namePrefix}-monthly-${settingsHash(BUDGET_THRESHOLDS)}`;
    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetName: this.budgetName,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: cfg.monthlyBudgetUsd, unit: 'USD' },
        filterExpression: {
          and: [
            { tags: { key: 'Project', values: [PROJECT], matchOptions: ['EQUALS'] } },
            { tags: { key: 'Environment', values: [props.envName], matchOptions: ['EQUALS'] } },
          ],
        },
      },
      notificationsWithSubscribers: notifications,
    });
    // The topic policy (budgets.amazonaws.com may publish) must exist before the first notification.
    this.budget.node.addDependency(props.topic);

    this.anomalyMonitor = new ce.CfnAnomalyMonitor(this, 'AnomalyMonitor', {
      monitorName: `${props.namePrefix}-spend`,
      monitorType: 'CUSTOM',
      monitorSpecification: JSON.stringify({
        Tags: { Key: 'Project', Values: [PROJECT], MatchOptions: ['EQUALS'] },
      }),
    });
    this.anomalySubscription = new ce.CfnAnomalySubscription(this, 'AnomalySubscription', {
      subscriptionName: `${props.namePrefix}-spend-anomalies`,
      frequency: 'IMMEDIATE',
      monitorArnList: [this.anomalyMonitor.attrMonitorArn],
      subscribers: [{ type: 'SNS', address: props.topic.topicArn }],
      thresholdExpression: JSON.stringify({
        Dimensions: {
          Key: 'ANOMALY_TOTAL_IMPACT_ABSOLUTE',
          MatchOptions: ['GREATER_THAN_OR_EQUAL'],
          Values: [String(cfg.anomalyThresholdUsd)],
        },
      }),
    });
    this.anomalySubscription.node.addDependency(props.topic);
  }
}

/** Eight hex digits that change whenever the budget's notification settings do. */
export function settingsHash(thresholds: readonly BudgetThreshold[]): string {
  return createHash('sha256').update(JSON.stringify(thresholds)).digest('hex').slice(0, 8);
}
