import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { resourcePrefix } from '../../lib/project';
import { decodeTriggers, judgeArming, type Arming, type TriggerClass } from '../shared/auto-rollback-policy';
import { errorMessage, optionalEnv, requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import {
  markPlanAborting,
  planLockOwner,
  readPlanState,
  stopRunningPlans,
  updatePlanState,
  type PlanState,
} from '../shared/rollout-control';
import { readLease, recordShift, releaseShiftLock } from '../shared/shift-audit';
import {
  ALL_BLUE,
  applyWeights,
  formatWeights,
  readListenerWeights,
  readWeightsIntent,
  type TrafficTarget,
  type Weights,
  type WeightsIntent,
} from '../shared/traffic';

/**
 * Automatic rollback: invoked by EventBridge when one of green's trigger alarms enters ALARM (each matched
 * by exact name; see lambda/shared/auto-rollback-policy.ts for the classes and the armed window).
 * - Not a trigger (a rule out of date): audited, traffic untouched.
 * - Older than the last change that put green in traffic (a late retry): audited, ignored.
 * - Disarmed (no shift or plan running, and green's last increase older than the watch window): audited as
 *   "disarmed: paged, traffic not moved", announced on the warning topic; the alarm itself has paged.
 * - Armed: sets 100% blue (rule and record of intent), stops any running rollout plan, records
 *   `auto-rollback` in the shift audit and announces the result on the WARNING topic: the trigger alarm has
 *   already paged, so a successful rollback does not page again. When 100% blue could not be written the
 *   function fails: Lambda retries it, and the critical `auto-rollback-failed` alarm is the one page.
 *
 * It depends only on the load balancer, the state table, Step Functions and SNS: not on green, not on the
 * database, not on the CLI or a laptop. Every step after the traffic change is best effort, so a failing
 * audit write or announcement never keeps traffic on green.
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
  /** The warning topic: every run's result is announced there (the trigger alarm is the page). */
  readonly resultTopicArn: string;
  /** Trigger alarm name -> its classes (the rule matches exactly these). */
  readonly triggers: ReadonlyMap<string, readonly TriggerClass[]>;
  /** Hours after green's last increase the rollback stays armed. */
  readonly watchHours: number;
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
  readonly action: 'ignored' | 'not-a-trigger' | 'disarmed' | 'rolled-back' | 'failed';
  readonly alarmName: string;
  /** The armed window as judged for this event (absent when the event was ignored before). */
  readonly arming?: Arming;
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
  const envName = requireEnv('ENV_NAME', env);
  const watchHours = Number(requireEnv('WATCH_HOURS', env));
  if (!Number.isFinite(watchHours) || watchHours < 0)
    throw new Error(`WATCH_HOURS: got ${JSON.stringify(env.WATCH_HOURS)}, expected a number of hours >= 0`);
  return {
    envName,
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
    resultTopicArn: requireEnv('RESULT_TOPIC_ARN', env),
    triggers: decodeTriggers(resourcePrefix(envName), requireEnv('TRIGGERS', env)),
    watchHours,
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
  const eventKey = event.id ?? `${alarmName}@${event.detail.state.timestamp ?? event.time ?? ''}`;
  const reason = `${alarmName} entered ALARM`;
  /** A refusal's audit entry (best effort: the refusal itself changes nothing). */
  const auditRefusal = async (suffix: string, detail: string, weights: Weights = ALL_BLUE) =>
    recordShift(c.doc, config.stateTableName, {
      actor: config.actor,
      kind: 'auto-rollback',
      from: weights,
      to: weights,
      outcome: 'refused',
      forced: false,
      reason,
      alarmStates: { [alarmName]: 'ALARM' },
      operationId: `auto-rollback#${eventKey}#${suffix}`,
      detail: detail.slice(0, 2000),
      at: ctx.now().toISOString(),
    }).catch((err: unknown) => problems.push(`could not record the audit entry: ${errorMessage(err)}`));

  // Only green's failures move traffic. The rule matches exactly the triggers; an event about another alarm
  // (a rule left from an older deploy, a hand-made test event) is audited and changes nothing.
  const classes = config.triggers.get(alarmName);
  if (!classes || classes.length === 0) {
    const detail = `${alarmName} is not an auto-rollback trigger (routing.autoRollback.triggers): traffic not moved`;
    logger.info('not a trigger: ignored', { alarmName });
    await auditRefusal('not-a-trigger', detail);
    return { action: 'not-a-trigger', alarmName, stoppedExecutions, problems: [detail, ...problems] };
  }

  // A late event (EventBridge or Lambda retries deliver up to minutes late) about an alarm transition older
  // than the last weight change must not roll back the newer shift: ignored, and audited.
  const changedAt = Date.parse(event.detail.state.timestamp ?? event.time ?? '');
  let intent: WeightsIntent | undefined;
  let intentKnown = false;
  try {
    intent = await readWeightsIntent(c.doc, config.stateTableName);
    intentKnown = true;
  } catch (err) {
    // Cannot tell: act (a rollback is the safe side).
    problems.push(`could not read the last weight change: ${errorMessage(err)}`);
  }
  // Only a newer change that put green in traffic makes the event stale: a newer write to 100% blue
  // (this event's own earlier attempt, another rollback) is re-written, which converges.
  if (intent && intent.weights.green > 0 && Number.isFinite(changedAt) && Date.parse(intent.at) > changedAt) {
    const detail = `event of ${new Date(changedAt).toISOString()} is older than the last weight change (${intent.at}, ${intent.operationId}): ignored`;
    logger.info('late event ignored', { alarmName, detail });
    await auditRefusal('late', detail, intent.weights);
    return { action: 'ignored', alarmName, stoppedExecutions, problems: [detail] };
  }

  // Armed only during a cutover: a shift or plan holds the lease (or a plan is active), or green rose
  // less than watchHours ago. Facts that cannot be read count as armed (acting is the safe side).
  let arming: Arming;
  try {
    const [lease, active] = await Promise.all([
      readLease(c.doc, config.stateTableName),
      readPlanState(c.doc, config.stateTableName),
    ]);
    arming = intentKnown
      ? judgeArming({
          lease,
          plan: active,
          intent,
          watchHours: config.watchHours,
          nowMs: ctx.now().getTime(),
        })
      : { armed: true, because: 'unknown', detail: 'the record of intent could not be read: acting' };
  } catch (err) {
    arming = {
      armed: true,
      because: 'unknown',
      detail: `the lease or plan could not be read (${errorMessage(err)}): acting`,
    };
  }
  if (!arming.armed) {
    let weights: Weights | undefined;
    try {
      weights = await readListenerWeights(c.elbv2, config.target);
    } catch (err) {
      problems.push(`could not read the listener: ${errorMessage(err)}`);
    }
    const detail = `disarmed: paged, traffic not moved (${arming.detail})`;
    logger.info('disarmed: traffic not moved', { alarmName, arming });
    await auditRefusal('disarmed', detail, weights ?? intent?.weights);
    await announce(ctx, {
      subject: `${resourcePrefix(config.envName)}: auto-rollback DISARMED, traffic not moved (${alarmName})`,
      lines: [
        `${alarmName} (${classes.join(', ')}) entered ALARM, but the automatic rollback is disarmed: ${arming.detail}.`,
        `Traffic: ${weights ? formatWeights(weights) : 'unknown (listener unreadable)'}; not changed.`,
        weights && weights.green === 0
          ? 'Green takes no traffic: nothing to roll back.'
          : `If green is the cause, roll back by hand: npm run shift -- --env ${config.envName} --rollback --yes`,
        `Status: npm run shift -- --env ${config.envName} --status`,
        `Runbook: ${config.runbookUrl ?? 'docs/RUNBOOK.md'}#auto-rollback-disarmed`,
      ],
    }).catch((err: unknown) => problems.push(`could not announce: ${errorMessage(err)}`));
    return { action: 'disarmed', alarmName, arming, stoppedExecutions, problems };
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
  const operationId = `auto-rollback#${eventKey}`;
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
      reason,
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

  // 5. Announce the result on the warning topic. The trigger alarm has paged already (one page per cause);
  //    when 100% blue could not be written the function fails below and `auto-rollback-failed` pages.
  const env = config.envName;
  const subject = written
    ? `${resourcePrefix(env)}: AUTO-ROLLBACK to 100% blue (${alarmName})`
    : blue
      ? `${resourcePrefix(env)}: AUTO-ROLLBACK incomplete, listener is 100% blue (${alarmName})`
      : `${resourcePrefix(env)}: AUTO-ROLLBACK FAILED, green ${now ? `${now.green}%` : 'maybe'} still in traffic`;
  const lines = [
    written
      ? `${alarmName} (${classes.join(', ')}) entered ALARM; traffic was ${from ? formatWeights(from) : 'unknown'} and is now ${formatWeights(ALL_BLUE)}${alarmToBlueMs !== undefined ? ` (${(alarmToBlueMs / 1000).toFixed(1)}s after the alarm)` : ''}.`
      : blue
        ? `${alarmName} entered ALARM; the listener applies ${formatWeights(ALL_BLUE)}, but the record of intent could not be written (Lambda retries this event). Make both agree: npm run shift -- --env ${env} --rollback --yes`
        : `${alarmName} entered ALARM, but setting 100% blue FAILED${now ? ` (listener: ${formatWeights(now)})` : ''}. Roll back by hand now: npm run shift -- --env ${env} --rollback --yes`,
    `Armed: ${arming.detail}.`,
    plan
      ? `Rollout plan ${plan.planId} stopped (${stoppedExecutions.length} execution(s)).`
      : 'No rollout plan was running.',
    event.detail.state.reason ? `Alarm reason: ${event.detail.state.reason}` : '',
    problems.length > 0 ? `Problems: ${problems.join('; ')}` : '',
    `Status: npm run shift -- --env ${env} --status`,
    `Runbook: ${config.runbookUrl ?? 'docs/RUNBOOK.md'}#${written ? 'auto-rollback-executed' : 'auto-rollback-failed'}`,
  ];
  try {
    await announce(ctx, { subject, lines });
  } catch (err) {
    problems.push(`could not announce the result: ${errorMessage(err)}`);
  }

  const result: AutoRollbackResult = {
    action: written ? 'rolled-back' : 'failed',
    alarmName,
    arming,
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

/** Publishes one message on the result (warning) topic. */
async function announce(
  ctx: AutoRollbackContext,
  m: { readonly subject: string; readonly lines: readonly string[] },
): Promise<void> {
  await ctx.clients.sns.send(
    new PublishCommand({
      TopicArn: ctx.config.resultTopicArn,
      Subject: m.subject.slice(0, 100),
      Message: m.lines.filter(Boolean).join('\n'),
    }),
  );
}
