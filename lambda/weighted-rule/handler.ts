import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  SetRulePrioritiesCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readLease, type LockHolder } from '../shared/shift-audit';
import { createLogger } from '../shared/logger';

/**
 * The custom resources that keep CloudFormation away from the traffic weights (cr.Provider onEvent).
 *
 * `Custom::WeightedForwardRule` owns the listener rule that carries the weighted forward:
 * - Create: creates the rule (path-pattern "*", the given priority) with `InitialWeights`; if a rule of ours
 *   is already at that priority (a retried create), adopts it and keeps its weights.
 * - Update: keeps the live weights. Only target-group ARNs (mapped color to color) and the priority are
 *   refreshed; a new listener gets a new rule with the weights read from the old one.
 * - Delete: deletes the rule (already gone is fine).
 *
 * `Custom::TrafficDeployGuard` fails a deploy that would change routing while a shift or plan holds the
 * traffic lease: the routing resources depend on it, so CloudFormation stops before touching them.
 * Both resources run the guard on Create and Update.
 */

interface RuleProps {
  readonly ListenerArn: string;
  readonly Priority: string | number;
  readonly BlueTargetGroupArn: string;
  readonly GreenTargetGroupArn: string;
  readonly InitialBlueWeight: string | number;
  readonly InitialGreenWeight: string | number;
  readonly StateTableName: string;
  readonly EnvName: string;
  /**
   * Migration from the SSM-parameter design: if this parameter (JSON {"blue":B,"green":G}) exists when the
   * rule is created, its weights are used instead of the initial ones, so the first deploy of the rule
   * keeps the traffic an earlier shift set.
   */
  readonly LegacyWeightsParameterName?: string;
}

interface GuardProps {
  readonly StateTableName: string;
  readonly EnvName: string;
  /** Changes whenever the guarded routing resources would (so the guard runs on those deploys). */
  readonly Fingerprint?: string;
}

export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceType: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
}

export interface CustomResourceResult {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

export interface WeightedRuleDeps {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly doc: DynamoDBDocumentClient;
  readonly ssm: SSMClient;
  readonly now: () => Date;
}

const logger = createLogger({ function: 'weighted-rule' });
const defaultDeps: WeightedRuleDeps = {
  elbv2: new ElasticLoadBalancingV2Client({}),
  doc: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  ssm: new SSMClient({}),
  now: () => new Date(),
};

export class DeployBlockedError extends Error {
  constructor(envName: string, holder: LockHolder) {
    super(
      `deploy refused: the traffic lease of ${envName} is held by ${holder.owner} since ${holder.acquiredAt} for "${holder.purpose}". ` +
        `A deploy now could change routing under a running shift or plan. Wait for it to end or end it (npm run shift -- --env ${envName} --status; --abort or --rollback), then deploy again.`,
    );
    this.name = 'DeployBlocked';
  }
}

/** Fails while a live holder has the lease (its expiry by our clock is informational, so a margin). */
export async function guard(deps: WeightedRuleDeps, tableName: string, envName: string): Promise<void> {
  const holder = await readLease(deps.doc, tableName);
  if (!holder) return;
  const graceSeconds = 300;
  if (holder.expiresAt + graceSeconds < deps.now().getTime() / 1000) {
    logger.warn('lease not renewed for a long time: treated as gone for the deploy guard', { ...holder });
    return;
  }
  throw new DeployBlockedError(envName, holder);
}

function forward(blueArn: string, greenArn: string, blue: number, green: number) {
  return [
    {
      Type: 'forward' as const,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: blueArn, Weight: blue },
          { TargetGroupArn: greenArn, Weight: green },
        ],
        TargetGroupStickinessConfig: { Enabled: false },
      },
    },
  ];
}

async function rulesOf(elbv2: ElasticLoadBalancingV2Client, listenerArn: string): Promise<Rule[]> {
  const rules: Rule[] = [];
  let Marker: string | undefined;
  do {
    const out = await elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker }));
    rules.push(...(out.Rules ?? []));
    Marker = out.NextMarker;
  } while (Marker);
  return rules;
}

async function ruleByArn(elbv2: ElasticLoadBalancingV2Client, ruleArn: string): Promise<Rule | undefined> {
  try {
    const out = await elbv2.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }));
    return out.Rules?.[0];
  } catch (err) {
    if (err instanceof Error && err.name === 'RuleNotFoundException') return undefined;
    throw err;
  }
}

function weightsOf(rule: Rule | undefined, blueArn: string, greenArn: string) {
  const groups = rule?.Actions?.find((a) => a.Type === 'forward')?.ForwardConfig?.TargetGroups ?? [];
  const w = (arn: string) => groups.find((g) => g.TargetGroupArn === arn)?.Weight;
  const blue = w(blueArn);
  const green = w(greenArn);
  return blue === undefined && green === undefined ? undefined : { blue: blue ?? 0, green: green ?? 0 };
}

async function createRule(deps: WeightedRuleDeps, p: RuleProps, weights: { blue: number; green: number }) {
  const priority = Number(p.Priority);
  // A retried create (or a rule kept from a failed stack) at our priority that forwards to our groups: adopt.
  const existing = (await rulesOf(deps.elbv2, p.ListenerArn)).find((r) => r.Priority === String(priority));
  if (existing?.RuleArn) {
    const found = weightsOf(existing, p.BlueTargetGroupArn, p.GreenTargetGroupArn);
    if (found) return existing.RuleArn;
    throw new Error(
      `listener ${p.ListenerArn} already has a rule at priority ${priority} that is not the weighted rule: give routing.weightedRulePriority another value`,
    );
  }
  const out = await deps.elbv2.send(
    new CreateRuleCommand({
      ListenerArn: p.ListenerArn,
      Priority: priority,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['*'] } }],
      Actions: forward(p.BlueTargetGroupArn, p.GreenTargetGroupArn, weights.blue, weights.green),
    }),
  );
  const arn = out.Rules?.[0]?.RuleArn;
  if (!arn) throw new Error('CreateRule returned no rule ARN');
  return arn;
}

async function legacyWeights(
  deps: WeightedRuleDeps,
  p: RuleProps,
): Promise<{ blue: number; green: number } | undefined> {
  if (!p.LegacyWeightsParameterName) return undefined;
  try {
    const out = await deps.ssm.send(new GetParameterCommand({ Name: p.LegacyWeightsParameterName }));
    const w = JSON.parse(out.Parameter?.Value ?? '') as { blue?: unknown; green?: unknown };
    if (
      Number.isInteger(w.blue) &&
      Number.isInteger(w.green) &&
      (w.blue as number) + (w.green as number) === 100
    ) {
      return { blue: w.blue as number, green: w.green as number };
    }
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ParameterNotFound')) throw err;
  }
  return undefined;
}

export async function onEvent(
  event: CustomResourceEvent,
  deps: WeightedRuleDeps = defaultDeps,
): Promise<CustomResourceResult> {
  logger.info('event', { requestType: event.RequestType, resourceType: event.ResourceType });
  if (event.ResourceType === 'Custom::TrafficDeployGuard') {
    const p = event.ResourceProperties as unknown as GuardProps;
    if (event.RequestType !== 'Delete') await guard(deps, p.StateTableName, p.EnvName);
    return { PhysicalResourceId: event.PhysicalResourceId ?? `traffic-deploy-guard-${p.EnvName}` };
  }
  const p = event.ResourceProperties as unknown as RuleProps;
  const initial = { blue: Number(p.InitialBlueWeight), green: Number(p.InitialGreenWeight) };
  if (event.RequestType === 'Create') {
    await guard(deps, p.StateTableName, p.EnvName);
    const arn = await createRule(deps, p, (await legacyWeights(deps, p)) ?? initial);
    return { PhysicalResourceId: arn, Data: { RuleArn: arn } };
  }
  const physical = event.PhysicalResourceId ?? '';
  if (event.RequestType === 'Delete') {
    try {
      if (physical.startsWith('arn:')) await deps.elbv2.send(new DeleteRuleCommand({ RuleArn: physical }));
    } catch (err) {
      if (!(err instanceof Error && err.name === 'RuleNotFoundException')) throw err;
    }
    return { PhysicalResourceId: physical };
  }
  // Update: never change the weights.
  await guard(deps, p.StateTableName, p.EnvName);
  const old = (event.OldResourceProperties ?? {}) as unknown as Partial<RuleProps>;
  const current = await ruleByArn(deps.elbv2, physical);
  const live =
    weightsOf(
      current,
      old.BlueTargetGroupArn ?? p.BlueTargetGroupArn,
      old.GreenTargetGroupArn ?? p.GreenTargetGroupArn,
    ) ?? initial;
  if (!current || old.ListenerArn !== p.ListenerArn) {
    // New listener (or the rule was deleted by hand): a new rule, with the weights the old one had.
    const arn = await createRule(deps, p, current ? live : { blue: 100, green: 0 });
    return { PhysicalResourceId: arn, Data: { RuleArn: arn } };
  }
  const groups = current.Actions?.find((a) => a.Type === 'forward')?.ForwardConfig?.TargetGroups ?? [];
  if (
    groups.some(
      (g) => g.TargetGroupArn !== p.BlueTargetGroupArn && g.TargetGroupArn !== p.GreenTargetGroupArn,
    )
  ) {
    await deps.elbv2.send(
      new ModifyRuleCommand({
        RuleArn: physical,
        Actions: forward(p.BlueTargetGroupArn, p.GreenTargetGroupArn, live.blue, live.green),
      }),
    );
  }
  if (current.Priority !== String(Number(p.Priority))) {
    await deps.elbv2.send(
      new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: physical, Priority: Number(p.Priority) }] }),
    );
  }
  return { PhysicalResourceId: physical, Data: { RuleArn: physical } };
}

export async function handler(event: CustomResourceEvent): Promise<CustomResourceResult> {
  return onEvent(event);
}
