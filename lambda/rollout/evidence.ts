import { GetMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { TrafficTarget } from '../shared/traffic';
import { alarmsWithoutEvidence } from './gates';

/**
 * Evidence before promotion: a step's bake completes only when green served at least
 * `routing.minRequestsPerStep` requests since the step was applied (the load balancer's RequestCount for
 * green's target group, read with GetMetricData) and every watched alarm has evaluated (none in
 * INSUFFICIENT_DATA). The reading (CloudWatch) and the verdict (pure) live apart.
 */

export interface Evidence {
  /** Green's requests counted since the step (undefined: not required, not read). */
  readonly requests?: number;
  readonly requiredRequests: number;
  /** Watched alarms in INSUFFICIENT_DATA (no verdict either way). */
  readonly insufficient: readonly string[];
  readonly enough: boolean;
}

/** Why a step lacks evidence, in one line for the plan item, the audit and the pause message. */
export function describeEvidence(e: Evidence): string {
  const parts: string[] = [];
  if (e.requests !== undefined)
    parts.push(`green served ${e.requests} of the ${e.requiredRequests} requests required`);
  if (e.insufficient.length > 0) parts.push(`INSUFFICIENT_DATA: ${e.insufficient.join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : 'enough evidence';
}

export function judgeEvidence(input: {
  readonly alarmStates: Record<string, string>;
  readonly forcedAlarms: readonly string[];
  readonly requests?: number;
  readonly requiredRequests: number;
}): Evidence {
  const insufficient = alarmsWithoutEvidence(input.alarmStates, input.forcedAlarms);
  const requestsOk = input.requiredRequests === 0 || (input.requests ?? 0) >= input.requiredRequests;
  return {
    requests: input.requests,
    requiredRequests: input.requiredRequests,
    insufficient,
    enough: insufficient.length === 0 && requestsOk,
  };
}

/**
 * The load balancer's metric dimensions of a target group, from the ARNs the rollout already has:
 * `LoadBalancer` is `app/<name>/<id>` (from the listener ARN), `TargetGroup` is `targetgroup/<name>/<id>`.
 */
export function targetGroupDimensions(target: Pick<TrafficTarget, 'listenerArn' | 'greenTargetGroupArn'>): {
  LoadBalancer: string;
  TargetGroup: string;
} {
  const lb = /:listener\/((?:app|net)\/[^/]+\/[^/]+)\//.exec(target.listenerArn)?.[1];
  const tg = /:(targetgroup\/[^/]+\/[^/]+)$/.exec(target.greenTargetGroupArn)?.[1];
  if (!lb || !tg) {
    throw new Error(
      `cannot derive the load balancer metric dimensions from ${target.listenerArn} and ${target.greenTargetGroupArn}`,
    );
  }
  return { LoadBalancer: lb, TargetGroup: tg };
}

const MINUTE_MS = 60_000;

/**
 * Green's requests in the whole minutes from the first minute boundary at or after `since` up to `now`
 * (a minute that began before the step is not counted: it mixes the old weight in). Sums every datapoint
 * of every page of the answer.
 */
export async function greenRequestsSince(
  cloudwatch: CloudWatchClient,
  target: Pick<TrafficTarget, 'listenerArn' | 'greenTargetGroupArn'>,
  since: Date,
  now: Date,
): Promise<number> {
  const start = Math.ceil(since.getTime() / MINUTE_MS) * MINUTE_MS;
  const end = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
  if (end <= start) return 0;
  const dims = targetGroupDimensions(target);
  let total = 0;
  let NextToken: string | undefined;
  do {
    const out = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(start),
        EndTime: new Date(end),
        NextToken,
        MetricDataQueries: [
          {
            Id: 'greenRequests',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/ApplicationELB',
                MetricName: 'RequestCount',
                Dimensions: [
                  { Name: 'LoadBalancer', Value: dims.LoadBalancer },
                  { Name: 'TargetGroup', Value: dims.TargetGroup },
                ],
              },
              Period: 60,
              Stat: 'Sum',
            },
            ReturnData: true,
          },
        ],
      }),
    );
    for (const r of out.MetricDataResults ?? []) for (const v of r.Values ?? []) total += v;
    NextToken = out.NextToken;
  } while (NextToken);
  return total;
}
