import {
  DescribeListenersCommand,
  ModifyListenerCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { parameterPath } from '../../lib/project';

/** Percent of traffic to each color. Integers 0-100 that sum to 100. */
export interface Weights {
  readonly blue: number;
  readonly green: number;
}

export const ALL_BLUE: Weights = { blue: 100, green: 0 };

/** What the routing stack deployed and the traffic functions act on (read from SSM parameters). */
export interface TrafficTarget {
  readonly listenerArn: string;
  readonly blueTargetGroupArn: string;
  readonly greenTargetGroupArn: string;
  /**
   * SSM parameter holding the current weights as JSON `{"blue":90,"green":10}`: the one durable source of
   * truth that the stack reads at deploy time, so a later `cdk deploy` never resets a shift.
   */
  readonly weightsParameterName: string;
}

export type Color = 'blue' | 'green';
export const COLORS: readonly Color[] = ['blue', 'green'];

/** `/pipeline-guardrails/<env>/routing/weights`: the JSON source of truth of an environment's weights. */
export function weightsParameterName(envName: string): string {
  return parameterPath(envName, 'routing', 'weights');
}

/**
 * `<weights parameter>-blue` / `-green`: the same weights as plain numbers, written together with the JSON
 * by `applyWeights`. CloudFormation cannot parse JSON, so the stack reads these at deploy time (an SSM
 * parameter-typed stack parameter per color) to give the listener the current weights.
 */
export function colorWeightParameterName(weightsParameterName: string, color: Color): string {
  return `${weightsParameterName}-${color}`;
}

/** Every parameter `applyWeights` writes (for IAM grants). */
export function allWeightParameterNames(weightsParameterName: string): string[] {
  return [weightsParameterName, ...COLORS.map((c) => colorWeightParameterName(weightsParameterName, c))];
}

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

/** Parses the weights parameter's JSON value. */
export function parseWeightsParameter(value: string): Weights {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidWeightsError([
      `weights parameter: got ${JSON.stringify(value)}, expected JSON {"blue":N,"green":M}`,
    ]);
  }
  const o = (parsed ?? {}) as { blue?: unknown; green?: unknown };
  return assertWeights({ blue: o.blue, green: o.green });
}

/** Thrown when the listener is not forwarding to exactly the two target groups it should. */
export class UnexpectedListenerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnexpectedListenerError';
  }
}

/** Reads the weights the listener applies now. */
export async function readListenerWeights(
  elbv2: ElasticLoadBalancingV2Client,
  target: TrafficTarget,
): Promise<Weights> {
  const out = await elbv2.send(new DescribeListenersCommand({ ListenerArns: [target.listenerArn] }));
  const listener = out.Listeners?.[0];
  if (!listener) throw new UnexpectedListenerError(`listener ${target.listenerArn} not found`);
  const forward = listener.DefaultActions?.find((a) => a.Type === 'forward');
  const groups = forward?.ForwardConfig?.TargetGroups ?? [];
  const weightOf = (arn: string) => {
    const g = groups.find((t) => t.TargetGroupArn === arn);
    if (!g) throw new UnexpectedListenerError(`listener ${target.listenerArn} does not forward to ${arn}`);
    return g.Weight ?? 0;
  };
  const blue = weightOf(target.blueTargetGroupArn);
  const green = weightOf(target.greenTargetGroupArn);
  const total = blue + green;
  if (total === 0)
    throw new UnexpectedListenerError(`listener ${target.listenerArn} gives both colors weight 0`);
  // ALB weights are relative (0-999); report them as percentages.
  const greenPct = Math.round((green * 100) / total);
  return { blue: 100 - greenPct, green: greenPct };
}

function forwardAction(target: TrafficTarget, w: Weights): Action {
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: target.blueTargetGroupArn, Weight: w.blue },
        { TargetGroupArn: target.greenTargetGroupArn, Weight: w.green },
      ],
      TargetGroupStickinessConfig: { Enabled: false },
    },
  };
}

/**
 * Applies the weights: the listener first (traffic moves within seconds), then the source-of-truth
 * parameter and its per-color mirrors (see `colorWeightParameterName`). Reads the listener back and returns what it now applies. If the parameter write fails after
 * the listener changed, the error says so, because the next deploy would restore the old weights.
 */
export async function applyWeights(
  clients: { elbv2: ElasticLoadBalancingV2Client; ssm: SSMClient },
  target: TrafficTarget,
  weights: Weights,
): Promise<Weights> {
  const w = assertWeights(weights);
  await clients.elbv2.send(
    new ModifyListenerCommand({
      ListenerArn: target.listenerArn,
      DefaultActions: [forwardAction(target, w)],
    }),
  );
  try {
    // The JSON first (the source of truth the CLIs read), then the per-color numbers the stack reads.
    const writes: [string, string][] = [
      [target.weightsParameterName, JSON.stringify({ blue: w.blue, green: w.green })],
      [colorWeightParameterName(target.weightsParameterName, 'green'), String(w.green)],
      [colorWeightParameterName(target.weightsParameterName, 'blue'), String(w.blue)],
    ];
    for (const [Name, Value] of writes) {
      await clients.ssm.send(new PutParameterCommand({ Name, Value, Type: 'String', Overwrite: true }));
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `listener now applies ${formatWeights(w)}, but the weights parameter ${target.weightsParameterName} was not updated (${why}); ` +
        'run the same command again before any cdk deploy, or the deploy will restore the old weights',
      { cause: err },
    );
  }
  return readListenerWeights(clients.elbv2, target);
}
