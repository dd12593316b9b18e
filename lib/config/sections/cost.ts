import { z } from 'zod';

/**
 * Cost guardrails of one environment: an AWS Budgets budget on everything tagged with the project and the
 * environment, and a Cost Anomaly Detection monitor on the project tag, both mailing the warning topic; and
 * the switches for the guardrails' own optional costs.
 */
export const costSchema = z.strictObject({
  /**
   * Monthly budget in USD for everything tagged `Project=pipeline-guardrails` and `Environment=<env>` (the
   * load balancer, Fargate, a created database, the guardrails). Mail at 80% and 100% actual, 100% forecast.
   */
  monthlyBudgetUsd: z
    .number({ error: () => 'a number of US dollars above 0' })
    .gt(0, 'a number of US dollars above 0')
    .max(1_000_000, 'at most 1,000,000 US dollars'),
  /** Smallest total impact (USD) of a cost anomaly that is mailed. @default 10 */
  anomalyThresholdUsd: z
    .number({ error: () => 'a number of US dollars above 0' })
    .gt(0, 'a number of US dollars above 0')
    .default(10),
  /**
   * Container Insights on the routing cluster: per-task CPU, memory and network metrics, about $15 a month an
   * environment. Off by default: the service alarms use the free AWS/ECS and load balancer metrics. @default false
   */
  containerInsights: z.boolean().default(false),
});

export type CostConfig = z.output<typeof costSchema>;
