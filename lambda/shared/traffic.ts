import { PutMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DescribeRulesCommand,
  ModifyRuleCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ENVIRONMENT_DIMENSION, GREEN_WEIGHT_METRIC, METRIC_NAMESPACE, STATE_KEYS } from '../../lib/project';

/** Percent of traffic to each color. Integers 0-100 that sum to 100. */
export interface Weights {
  readonly blue: number;
  readonly green: number;
}

export const ALL_BLUE: Weights = { blue: 100, green: 0 };

/**
 * What the routing stack deployed and the traffic functions act on.
 *
 * The ONE live representation of the weights is the forward action of the weighted listener rule
 * `ruleArn`. CloudFormation does not own it: a custom resource (lambda/weighted-rule) creates it once with
 * the config's `initialWeights`, refreshes only target-group ARNs on update (keeping the weights) and
 * deletes it with the stack. The CloudFormation-managed default action of the listener forwards to blue
 * only: the fallback if the rule is ever gone. So no deploy, failed deploy, deploy rollback or stale change
 * set changes traffic.
 *
 * Next to it, the state table keeps one record of intent (`STATE_KEYS.weightsIntent`: weights, version,
 * the operation id that wrote it), written before the rule under the writer's lease; CloudFormation never
 * reads it. `--status` compares the two.
 */
export interface TrafficTarget {
  readonly envName: string;
  readonly listenerArn: string;
  readonly ruleArn: string;
  readonly blueTargetGroupArn: string;
  readonly greenTargetGroupArn: string;
  /** The state table: record of intent and lease. */
  readonly stateTableName: string;
}

export type Color = 'blue' | 'green';
export const COLORS: readonly Color[] = ['blue', 'green'];

/** Problems with a weights pair (empty when valid). */
export function weightProblems(w: { blue: unknown; green: unknown }): string[] {
  const problems: string[] = [];
  for (const color of ['blue', 'green'] as const) {
    const v = w[color];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) {
      problems.push(`${color} weight: got ${JSON.stringify(v)}, expected an integer from 0 to 100`);
    }
  }
  if (problems.length === 0 && (w.blue as number) + (w.green as number) !== 100) {
    problems.push(`weights: got blue ${String(w.blue)} + green ${String(w.green)}, expected a sum of 100`);
  }
  return problems;
}

export class InvalidWeightsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'InvalidWeightsError';
  }
}

export function assertWeights(w: { blue: unknown; green: unknown }): Weights {
  const problems = weightProblems(w);
  if (problems.length > 0) throw new InvalidWeightsError(problems);
  return w as Weights;
}

export function formatWeights(w: Weights): string {
  return `blue ${w.blue}% / green ${w.green}%`;
}

/**
 * Thrown when the listener is not in the shape this tool changes (before any write): what was found and
 * what to do. Never "fixed" by replacing it.
 */
export class UnexpectedListenerError extends Error {
  constructor(
    readonly problems: readonly string[],
    readonly hint: string = 'fix the listener (or redeploy the routing stack) and run the command again; nothing was changed',
  ) {
    super(`${problems.join('; ')}: ${hint}`);
    this.name = 'UnexpectedListenerError';
  }
}

/** What the listener looks like now: the weighted rule's weights and every shape problem seen. */
export interface TrafficReading {
  /** The weights the weighted rule applies (undefined when it cannot be read as two colors). */
  readonly weights?: Weights;
  /** Problems that make any write unsafe (a third group, a non-forward action, a rule routing elsewhere). */
  readonly problems: readonly string[];
  /** Notes that do not block a write (the default action is not the blue fallback). */
  readonly notes: readonly string[];
  /** The rule's forward action as found (kept on write: stickiness). */
  readonly forward?: Action;
}

async function describeAllRules(elbv2: ElasticLoadBalancingV2Client, listenerArn: string): Promise<Rule[]> {
  const rules: Rule[] = [];
  let Marker: string | undefined;
  do {
    const out = await elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker }));
    rules.push(...(out.Rules ?? []));
    Marker = out.NextMarker;
  } while (Marker);
  return rules;
}

const tgName = (arn: string | undefined) => arn?.split(':').pop() ?? String(arn);

/** Reads the listener's rules (one paginated DescribeRules) and checks its shape. Never throws on shape. */
export async function inspectTraffic(
  elbv2: ElasticLoadBalancingV2Client,
  target: TrafficTarget,
): Promise<TrafficReading> {
  const rules = await describeAllRules(elbv2, target.listenerArn);
  const problems: string[] = [];
  const notes: string[] = [];
  const rule = rules.find((r) => r.RuleArn === target.ruleArn);
  const def = rules.find((r) => r.IsDefault);
  const known = new Set([target.blueTargetGroupArn, target.greenTargetGroupArn]);

  for (const r of rules) {
    if (r.IsDefault || r.RuleArn === target.ruleArn) continue;
    const to = (r.Actions ?? []).map(
      (a) => `${a.Type ?? '?'}${a.TargetGroupArn ? ` ${tgName(a.TargetGroupArn)}` : ''}`,
    );
    problems.push(
      `listener rule ${tgName(r.RuleArn)} (priority ${r.Priority ?? '?'}) routes ${to.join(', ') || 'somewhere'} outside the weighted rule, so the weights do not describe all traffic; remove it or move it to another listener`,
    );
  }
  const defaultGroups = (def?.Actions ?? []).flatMap((a) =>
    a.Type === 'forward'
      ? (a.ForwardConfig?.TargetGroups?.map((g) => g.TargetGroupArn) ?? [a.TargetGroupArn])
      : [`(${a.Type})`],
  );
  if (!(defaultGroups.length === 1 && defaultGroups[0] === target.blueTargetGroupArn)) {
    notes.push(
      `the listener's default action (the fallback) sends to ${defaultGroups.map(tgName).join(', ') || 'nothing'}, expected blue only: redeploy the routing stack`,
    );
  }
  if (!rule) {
    problems.push(
      `the weighted rule ${target.ruleArn} is not on listener ${target.listenerArn} (deleted outside CloudFormation?); the default action serves all traffic. Redeploy the routing stack to recreate it`,
    );
    return { problems, notes };
  }
  const actions = rule.Actions ?? [];
  const forwards = actions.filter((a) => a.Type === 'forward');
  const others = actions.filter((a) => a.Type !== 'forward');
  if (others.length > 0 || forwards.length !== 1) {
    problems.push(
      `the weighted rule has actions ${actions.map((a) => a.Type).join(', ') || 'none'}, expected one forward action (a step such as authenticate-oidc would be dropped by a rewrite); move it to its own rule or listener`,
    );
  }
  const conditions = rule.Conditions ?? [];
  const matchesAll =
    conditions.length === 1 &&
    conditions[0]?.Field === 'path-pattern' &&
    JSON.stringify(conditions[0]?.PathPatternConfig?.Values ?? conditions[0]?.Values) === '["*"]';
  if (!matchesAll) {
    problems.push(
      `the weighted rule's conditions were changed (${JSON.stringify(conditions.map((c) => c.Field))}); expected path-pattern "*" so it takes all traffic: redeploy the routing stack`,
    );
  }
  const forward = forwards[0];
  const groups =
    forward?.ForwardConfig?.TargetGroups ??
    (forward?.TargetGroupArn ? [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }] : []);
  for (const g of groups) {
    if (!known.has(g.TargetGroupArn ?? '')) {
      problems.push(
        `the weighted rule also forwards to ${tgName(g.TargetGroupArn)} (weight ${g.Weight ?? 1}), which is neither blue nor green; remove it from the rule`,
      );
    }
  }
  const weightOf = (arn: string) => groups.find((g) => g.TargetGroupArn === arn);
  const b = weightOf(target.blueTargetGroupArn);
  const g = weightOf(target.greenTargetGroupArn);
  // A forward to one group is legal ALB shape: the other color gets 0.
  const blue = b ? (b.Weight ?? 1) : 0;
  const green = g ? (g.Weight ?? 1) : 0;
  if (!b && !g) {
    problems.push('the weighted rule forwards to neither blue nor green');
    return { problems, notes, forward };
  }
  if (blue + green === 0) {
    problems.push('the weighted rule gives both colors weight 0');
    return { problems, notes, forward };
  }
  // ALB weights are relative (0-999); report them as percentages.
  const greenPct = Math.round((green * 100) / (blue + green));
  return { weights: { blue: 100 - greenPct, green: greenPct }, problems, notes, forward };
}

/** Reads the weights the weighted rule applies; UnexpectedListenerError on any shape problem. */
export async function readListenerWeights(
  elbv2: ElasticLoadBalancingV2Client,
  target: TrafficTarget,
): Promise<Weights> {
  const r = await inspectTraffic(elbv2, target);
  if (r.problems.length > 0 || !r.weights) throw new UnexpectedListenerError(r.problems);
  return r.weights;
}

/** The record of intent, as stored. */
export interface WeightsIntent {
  readonly weights: Weights;
  /** Incremented at every write. */
  readonly version: number;
  /** Who wrote it and as which operation (a retry of the same operation recognises its own write). */
  readonly operationId: string;
  readonly writer: string;
  /** When this operation first wrote it (kept by a retry of the same operation). */
  readonly at: string;
  /**
   * When green's weight last rose (the write that raised it; carried over by every later write). The
   * automatic rollback's watch window starts here (lambda/shared/auto-rollback-policy.ts). Absent until a
   * writer raises green.
   */
  readonly greenRaisedAt?: string;
}

export async function readWeightsIntent(
  doc: DynamoDBDocumentClient,
  tableName: string,
): Promise<WeightsIntent | undefined> {
  const out = await doc.send(
    new GetCommand({ TableName: tableName, Key: STATE_KEYS.weightsIntent, ConsistentRead: true }),
  );
  if (!out.Item) return undefined;
  const { pk: _pk, sk: _sk, ...rest } = out.Item;
  return rest as WeightsIntent;
}

/** How a write identifies itself and what it is fenced on. */
export interface WeightsWrite {
  /** Stable across retries of the same step (e.g. `<plan id>#step-2`, `<audit id>`). */
  readonly operationId: string;
  /** Who writes (recorded with the intent). */
  readonly writer: string;
  /**
   * The lease this write is made under: the intent is written only if the lease still has this id
   * (compare-and-set), and the rule only after that. Required for any increase of green; a write to 100%
   * blue (a rollback) is never fenced: getting out is always allowed.
   */
  readonly leaseId?: string;
  readonly now: Date;
}

export interface TrafficClients {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly doc: DynamoDBDocumentClient;
  /** Publishes GREEN_WEIGHT_METRIC after each write (best effort). @default not published */
  readonly cloudwatch?: CloudWatchClient;
}

/** The write was refused by the lease (fencing): nothing changed. */
export class WriteFencedError extends Error {
  constructor(readonly leaseId: string) {
    super(
      `the traffic lease ${leaseId} is no longer held by this writer (taken over after it expired, or released by a rollback): nothing was changed`,
    );
    this.name = 'WriteFencedError';
  }
}

/** A write failed part-way: says what each representation holds and what to run. */
export class TrafficWriteError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrafficWriteError';
  }
}

function forwardAction(target: TrafficTarget, w: Weights, found?: Action): Action {
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: target.blueTargetGroupArn, Weight: w.blue },
        { TargetGroupArn: target.greenTargetGroupArn, Weight: w.green },
      ],
      TargetGroupStickinessConfig: found?.ForwardConfig?.TargetGroupStickinessConfig ?? { Enabled: false },
    },
  };
}

async function writeIntent(
  doc: DynamoDBDocumentClient,
  tableName: string,
  w: Weights,
  write: WeightsWrite,
  previous: WeightsIntent | undefined,
): Promise<WeightsIntent> {
  const sameOp = previous?.operationId === write.operationId;
  const at = sameOp && previous ? previous.at : write.now.toISOString();
  // A retry of the same operation sees its own write (green no higher than it): it keeps that write's time.
  const raised = w.green > (previous?.weights.green ?? 0);
  const greenRaisedAt = raised ? at : previous?.greenRaisedAt;
  const intent: WeightsIntent = {
    weights: { blue: w.blue, green: w.green },
    version: (previous?.version ?? 0) + 1,
    operationId: write.operationId,
    writer: write.writer,
    at,
    ...(greenRaisedAt ? { greenRaisedAt } : {}),
  };
  const put = {
    TableName: tableName,
    Item: { ...STATE_KEYS.weightsIntent, ...intent },
    // Versioned: a concurrent writer that read the same version loses and retries from a fresh read.
    ConditionExpression: previous ? '#version = :seen' : 'attribute_not_exists(pk)',
    ExpressionAttributeNames: previous ? { '#version': 'version' } : undefined,
    ExpressionAttributeValues: previous ? { ':seen': previous.version } : undefined,
  };
  if (!write.leaseId) {
    await doc.send(new PutCommand(put));
    return intent;
  }
  try {
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: tableName,
              Key: STATE_KEYS.lease,
              ConditionExpression: 'leaseId = :leaseId',
              ExpressionAttributeValues: { ':leaseId': write.leaseId },
            },
          },
          { Put: put },
        ],
      }),
    );
  } catch (err) {
    if (
      err instanceof TransactionCanceledException &&
      err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
    ) {
      throw new WriteFencedError(write.leaseId);
    }
    throw err;
  }
  return intent;
}

/**
 * Applies the weights, convergently: whatever state an earlier failed or half-applied call left, running
 * it again ends with the rule and the record of intent both at `weights`.
 * 1. Reads the listener and checks its shape (refuses before any write; see `inspectTraffic`).
 * 2. Writes the record of intent (versioned; fenced on the lease when `leaseId` is given).
 * 3. Sets the weighted rule's forward action (ModifyRule: the rule only, the listener's other parts and
 *    the CloudFormation-owned default action are untouched), keeping its stickiness setting.
 * 4. Reads the rule back; publishes GREEN_WEIGHT_METRIC (best effort).
 * It always writes both, even when they already read as `weights`: a rollback writes everything it owns
 * whatever it reads first.
 */
export async function applyWeights(
  clients: TrafficClients,
  target: TrafficTarget,
  weights: Weights,
  write: WeightsWrite,
): Promise<Weights> {
  const w = assertWeights(weights);
  const reading = await inspectTraffic(clients.elbv2, target);
  if (reading.problems.length > 0) throw new UnexpectedListenerError(reading.problems);
  if (w.green > 0 && !write.leaseId) {
    throw new Error(`refusing to raise green to ${w.green}% without holding the traffic lease`);
  }
  for (let attempt = 1; ; attempt++) {
    const previous = await readWeightsIntent(clients.doc, target.stateTableName);
    try {
      await writeIntent(clients.doc, target.stateTableName, w, write, previous);
      break;
    } catch (err) {
      // Another writer wrote between our read and our write (version moved): read again, at most 3 times.
      const raced = err instanceof Error && err.name === 'ConditionalCheckFailedException';
      const cancelledOnVersion =
        err instanceof TransactionCanceledException &&
        err.CancellationReasons?.[1]?.Code === 'ConditionalCheckFailed';
      if ((raced || cancelledOnVersion) && attempt < 3) continue;
      throw err;
    }
  }
  try {
    await clients.elbv2.send(
      new ModifyRuleCommand({
        RuleArn: target.ruleArn,
        Actions: [forwardAction(target, w, reading.forward)],
      }),
    );
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new TrafficWriteError(
      `the record of intent says ${formatWeights(w)} but the listener rule was not changed (${why}); it still applies ${reading.weights ? formatWeights(reading.weights) : 'unknown weights'}. Run the same command again (it converges), or roll back`,
      { cause: err },
    );
  }
  const after = await readListenerWeights(clients.elbv2, target);
  if (after.blue !== w.blue) {
    throw new TrafficWriteError(
      `set ${formatWeights(w)} but the listener rule reads ${formatWeights(after)} (changed by someone else at the same time?); check --status`,
    );
  }
  await publishGreenWeight(clients.cloudwatch, target.envName, after, write.now);
  return after;
}

/** Publishes GREEN_WEIGHT_METRIC (graphs and alerting); never fails the write that already happened. */
export async function publishGreenWeight(
  cloudwatch: CloudWatchClient | undefined,
  envName: string,
  w: Weights,
  at: Date,
): Promise<void> {
  if (!cloudwatch) return;
  try {
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: METRIC_NAMESPACE,
        MetricData: [
          {
            MetricName: GREEN_WEIGHT_METRIC,
            Dimensions: [{ Name: ENVIRONMENT_DIMENSION, Value: envName }],
            Value: w.green,
            Unit: 'Percent',
            Timestamp: at,
          },
        ],
      }),
    );
  } catch {
    // The metric is for graphs; the audit and the rule are the record.
  }
}
