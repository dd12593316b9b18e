import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { resourcePrefix } from '../../lib/project';
import { errorMessage, optionalEnv, requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import {
  markPlanAborting,
  planLockOwner,
  stopRunningPlans,
  updatePlanState,
  type PlanState,
} from '../shared/rollout-control';
import { recordShift, releaseShiftLock } from '../shared/shift-audit';
import {
  ALL_BLUE,
  applyWeights,
  formatWeights,
  readListenerWeights,
  readWeightsIntent,
  type TrafficTarget,
  type Weights,
} from '../shared/traffic';

/**
 * Automatic rollback: invoked by EventBridge when green's service-level alarms or the critical composite
 * alarm enter ALARM. Sets 100% blue first (listener, then the weights parameter), then stops any running
 * rollout plan, records `auto-rollback` in the shift audit and pages on the critical topic.
 *
 * It depends only on the load balancer, SSM, the state table, Step Functions and SNS: not on green, not on
 * the database, not on the CLI or a laptop. Every step after the traffic change is best effort, so a
 * failing audit write or page never keeps traffic on green.
 */

/** The part of an EventBridge "CloudWatch Alarm State Change" event this function reads. */
export interface AlarmStateChangeEvent {
  readonly id?: string;
  readonly time?: string;
  readonly 'detail-type'?: string;
  readonly resources?: string[];
  readonly detail: {
    readonly alarmName: string;
    readonly state: { readonly value: string; readonly reason?: string; readonly timestamp?: string };
    readonly previousState?: { readonly value: string };
  };
}

export interface AutoRollbackConfig {
  readonly envName: string;
  readonly stateTableName: string;
  readonly target: TrafficTarget;
  readonly stateMachineArn: string;
  readonly criticalTopicArn: string;
  readonly runbookUrl?: string;
  /** This function's name, recorded as the audit's actor. */
  readonly actor: string;
}

export interface AutoRollbackContext {
  readonly config: AutoRollbackConfig;
  readonly clients: {
    readonly doc: DynamoDBDocumentClient;
    readonly elbv2: ElasticLoadBalancingV2Client;
    readonly cloudwatch?: CloudWatchClient;
    readonly sfn: SFNClient;
    readonly sns: SNSClient;
  };
  readonly now: () => Date;
  /** Pause between attempts at the traffic change. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface AutoRollbackResult {
  readonly action: 'ignored' | 'none' | 'rolled-back' | 'failed';
  readonly alarmName: string;
  readonly from?: Weights;
  readonly stoppedExecutions: string[];
  /** Milliseconds from the alarm's state change to 100% blue on the listener (when known). */
  readonly alarmToBlueMs?: number;
  readonly problems: string[];
}

/** The traffic could not be set to 100% blue: the function fails, so its error alarm pages as well. */
export class AutoRollbackFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AutoRollbackFailed';
  }
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): AutoRollbackConfig {
  return {
    envName: requireEnv('ENV_NAME', env),
    stateTableName: requireEnv('STATE_TABLE_NAME', env),
    target: {
      envName: requireEnv('ENV_NAME', env),
      listenerArn: requireEnv('LISTENER_ARN', env),
      ruleArn: requireEnv('RULE_ARN', env),
      blueTargetGroupArn: requireEnv('BLUE_TARGET_GROUP_ARN', env),
      greenTargetGroupArn: requireEnv('GREEN_TARGET_GROUP_ARN', env),
      stateTableName: requireEnv('STATE_TABLE_NAME', env),
    },
    stateMachineArn: requireEnv('STATE_MACHINE_ARN', env),
    criticalTopicArn: requireEnv('CRITICAL_TOPIC_ARN', env),
    runbookUrl: optionalEnv('RUNBOOK_URL', '', env) || undefined,
    actor: optionalEnv('AWS_LAMBDA_FUNCTION_NAME', 'auto-rollback', env),
  };
}

const clients = {
  doc: DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  }),
  elbv2: new ElasticLoadBalancingV2Client({}),
  cloudwatch: new CloudWatchClient({}),
  sfn: new SFNClient({}),
  sns: new SNSClient({}),
};
const logger = createLogger({ function: 'auto-rollback' });

export async function handler(event: AlarmStateChangeEvent): Promise<AutoRollbackResult> {
  return autoRollback(event, { config: configFromEnv(), clients, now: () => new Date() });
}

const TRAFFIC_ATTEMPTS = 3;

export async function autoRollback(
  event: AlarmStateChangeEvent,
  ctx: AutoRollbackContext,
): Promise<AutoRollbackResult> {
  const { config } = ctx;
  const c = ctx.clients;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const alarmName = event.detail.alarmName;
  const problems: string[] = [];
  const stoppedExecutions: string[] = [];
  if (event.detail.state.value !== 'ALARM') {
    logger.info('not an ALARM state change: ignored', { alarmName, state: event.detail.state.value });
    return { action: 'ignored', alarmName, stoppedExecutions, problems };
  }
  // A late event (EventBridge or Lambda retries deliver up to minutes late) about an alarm transition older
  // than the last weight change must not roll back the newer shift: ignored, and audited.
  const changedAt = Date.parse(event.detail.state.timestamp ?? event.time ?? '');
  try {
    const intent = await readWeightsIntent(c.doc, config.stateTableName);
    // Only a newer change that put green in traffic makes the event stale: a newer write to 100% blue
    // (this event's own earlier attempt, another rollback) is re-written, which converges.
    if (
      intent &&
      intent.weights.green > 0 &&
      Number.isFinite(changedAt) &&
      Date.parse(intent.at) > changedAt
    ) {
      const detail = `event of ${new Date(changedAt).toISOString()} is older than the last weight change (${intent.at}, ${intent.operationId}): ignored`;
      logger.info('late event ignored', { alarmName, detail });
      await recordShift(c.doc, config.stateTableName, {
        actor: config.actor,
        kind: 'auto-rollback',
        from: intent.weights,
        to: intent.weights,
        outcome: 'refused',
        forced: false,
        reason: `${alarmName} entered ALARM`,
        operationId: `auto-rollback#${event.id ?? alarmName}#late`,
        detail,
        at: ctx.now().toISOString(),
      }).catch(() => undefined);
      return { action: 'ignored', alarmName, stoppedExecutions, problems: [detail] };
    }
  } catch (err) {
    // Cannot tell: act (a rollback is the safe side).
    problems.push(`could not read the last weight change: ${errorMessage(err)}`);
  }
  const cause = `auto-rollback: ${alarmName} entered ALARM${event.detail.state.reason ? ` (${event.detail.state.reason})` : ''}`;

  // 1. Mark the running plan (if any) so a step in flight puts blue back itself and no further step starts.
  let plan: PlanState | undefined;
  try {
    plan = await markPlanAborting(c.doc, config.stateTableName, cause.slice(0, 1000), ctx.now());
  } catch (err) {
    problems.push(`could not mark the running plan aborted: ${errorMessage(err)}`);
  }

  // 2. The traffic. It writes 100% blue to everything it owns (rule and record of intent) WHATEVER it reads:
  //    a retry after "rule changed, intent write failed" (or the reverse) converges. Reading first only
  //    tells the audit and the page what it was.
  let from: Weights | undefined;
  try {
    from = await readListenerWeights(c.elbv2, config.target);
  } catch (err) {
    problems.push(`could not read the listener: ${errorMessage(err)}`);
  }
  const operationId = `auto-rollback#${event.id ?? `${alarmName}@${event.detail.state.timestamp ?? event.time ?? ''}`}`;
  let written = false;
  let trafficError: unknown;
  for (let attempt = 1; !written && attempt <= TRAFFIC_ATTEMPTS; attempt++) {
    try {
      await applyWeights(c, config.target, ALL_BLUE, {
        operationId,
        writer: config.actor,
        now: ctx.now(),
      });
      written = true;
    } catch (err) {
      trafficError = err;
      logger.error('setting 100% blue failed', { attempt, message: errorMessage(err) });
      if (attempt < TRAFFIC_ATTEMPTS) await sleep(200 * 2 ** attempt);
    }
  }
  // What the listener applies now decides the page: FAILED only while green really is in traffic.
  let now: Weights | undefined;
  if (written) now = ALL_BLUE;
  else {
    try {
      now = await readListenerWeights(c.elbv2, config.target);
    } catch (err) {
      problems.push(`could not read the listener after the rollback: ${errorMessage(err)}`);
    }
  }
  const blue = now !== undefined && now.green === 0;
  const stateChangedAt = Date.parse(event.detail.state.timestamp ?? event.time ?? '');
  const alarmToBlueMs =
    blue && Number.isFinite(stateChangedAt) ? ctx.now().getTime() - stateChangedAt : undefined;
  if (!written) problems.push(`could not write 100% blue everywhere: ${errorMessage(trafficError)}`);

  // 3. Stop the plan's execution: it must not move traffic again. Its own rollback path does not run.
  try {
    stoppedExecutions.push(...(await stopRunningPlans(c.sfn, config.stateMachineArn, cause)));
  } catch (err) {
    problems.push(`could not stop the rollout plan: ${errorMessage(err)}`);
  }

  // 4. Audit, plan item and lease.
  const at = ctx.now();
  try {
    await recordShift(c.doc, config.stateTableName, {
      actor: config.actor,
      kind: 'auto-rollback',
      from: from ?? plan?.weights ?? ALL_BLUE,
      to: now ?? from ?? ALL_BLUE,
      outcome: written ? 'rolled-back' : 'failed',
      forced: false,
      reason: `${alarmName} entered ALARM`,
      alarmStates: { [alarmName]: 'ALARM' },
      planId: plan?.planId,
      detail: [event.detail.state.reason, ...problems].filter(Boolean).join('; ').slice(0, 2000) || undefined,
      operationId,
      at: at.toISOString(),
    });
  } catch (err) {
    problems.push(`could not record the audit entry: ${errorMessage(err)}`);
  }
  if (plan) {
    try {
      await updatePlanState(c.doc, config.stateTableName, plan.planId, {
        status: 'rolled-back',
        phase: 'done',
        weights: ALL_BLUE,
        endedAt: at.toISOString(),
      });
      await releaseShiftLock(c.doc, config.stateTableName, planLockOwner(plan.planId));
    } catch (err) {
      problems.push(`could not close plan ${plan.planId}: ${errorMessage(err)}`);
    }
  }

  // 5. Page.
  const env = config.envName;
  const subject = written
    ? `${resourcePrefix(env)}: AUTO-ROLLBACK to 100% blue (${alarmName})`
    : blue
      ? `${resourcePrefix(env)}: AUTO-ROLLBACK incomplete, listener is 100% blue (${alarmName})`
      : `${resourcePrefix(env)}: AUTO-ROLLBACK FAILED, green ${now ? `${now.green}%` : 'maybe'} still in traffic`;
  const message = [
    written
      ? `${alarmName} entered ALARM; traffic was ${from ? formatWeights(from) : 'unknown'} and is now ${formatWeights(ALL_BLUE)}${alarmToBlueMs !== undefined ? ` (${(alarmToBlueMs / 1000).toFixed(1)}s after the alarm)` : ''}.`
      : blue
        ? `${alarmName} entered ALARM; the listener applies ${formatWeights(ALL_BLUE)}, but the record of intent could not be written (Lambda retries this event). Make both agree: npm run shift -- --env ${env} --rollback --yes`
        : `${alarmName} entered ALARM, but setting 100% blue FAILED${now ? ` (listener: ${formatWeights(now)})` : ''}. Roll back by hand now: npm run shift -- --env ${env} --rollback --yes`,
    plan
      ? `Rollout plan ${plan.planId} stopped (${stoppedExecutions.length} execution(s)).`
      : 'No rollout plan was running.',
    event.detail.state.reason ? `Alarm reason: ${event.detail.state.reason}` : '',
    problems.length > 0 ? `Problems: ${problems.join('; ')}` : '',
    `Status: npm run shift -- --env ${env} --status`,
    `Runbook: ${config.runbookUrl ?? 'docs/RUNBOOK.md'}#auto-rollback-executed`,
  ]
    .filter(Boolean)
    .join('\n');
  try {
    await c.sns.send(
      new PublishCommand({
        TopicArn: config.criticalTopicArn,
        Subject: subject.slice(0, 100),
        Message: message,
      }),
    );
  } catch (err) {
    problems.push(`could not page: ${errorMessage(err)}`);
  }

  const result: AutoRollbackResult = {
    action: written ? 'rolled-back' : 'failed',
    alarmName,
    from,
    stoppedExecutions,
    alarmToBlueMs,
    problems,
  };
  logger.log(written ? 'info' : 'error', 'auto-rollback', { ...result });
  if (!written) {
    throw new AutoRollbackFailedError(`could not set 100% blue after ${alarmName}: ${problems.join('; ')}`, {
      cause: trafficError,
    });
  }
  return result;
}
