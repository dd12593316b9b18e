import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { criticalCompositeAlarmName, resourcePrefix } from '../../lib/project';
import { errorMessage, requireEnv, optionalEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import {
  markPlanAborting,
  planLockOwner,
  putNewPlanState,
  readPlanState,
  updatePlanState,
  type PauseReason,
  type PlanState,
} from '../shared/rollout-control';
import {
  acquireLease,
  LeaseLostError,
  recordShift,
  releaseShiftLock,
  renewLease,
  type Lease,
} from '../shared/shift-audit';
import {
  ALL_BLUE,
  applyWeights,
  formatWeights,
  readListenerWeights,
  readWeightsIntent,
  type TrafficTarget,
  type Weights,
} from '../shared/traffic';
import { describeSnapshot } from '../snapshots/rds-snapshots';
import { takeSnapshot } from '../snapshots/take-snapshot';
import {
  AlarmFiringError,
  evaluateGates,
  EvidenceMissingError,
  GateClosedError,
  GreenUnhealthyError,
  type GateClients,
} from './gates';
import { readBakeSignals } from './bake-signals';
import { describeEvidence, greenRequestsSince, judgeEvidence, type Evidence } from './evidence';
import {
  assertPlan,
  EVIDENCE_DEFAULTS,
  formatPlan,
  MIN_BAKE_SECONDS,
  PLAN_LIMITS,
  type PlanRequest,
} from './plan';

/**
 * The rollout state machine's task function: one handler, one `action` per task state. The state machine
 * owns the flow (gates, snapshot wait loop, bake loop, rollback on any failure); this function does one
 * short thing per call and never waits, so no Lambda bills for a bake.
 */

export type RolloutAction =
  | 'start'
  | 'gate'
  | 'snapshot-start'
  | 'snapshot-status'
  | 'apply'
  | 'bake-check'
  | 'complete'
  | 'rollback'
  | 'refuse';

/** The plan as the start task returns it (kept at `$.plan` in the execution's state). */
export interface PlanContext {
  readonly planId: string;
  readonly executionArn: string;
  readonly steps: number[];
  readonly bakeSeconds: number;
  readonly checkIntervalSeconds: number;
  readonly actor: string;
  readonly reason?: string;
  /** Alarms forced past at start (`--force --reason`): ignored by the gates and bake checks. */
  readonly forcedAlarms: string[];
  readonly from: Weights;
  /** The plan's traffic lease: every task renews it, every increase is fenced on it. */
  readonly leaseId: string;
  readonly leaseTtlSeconds: number;
  /** Indexes into `steps` followed by a `pause` step. */
  readonly pauses: number[];
  readonly startedAt: string;
}

/** What the apply and bake-check tasks return (kept at `$.step`). */
export interface StepStatus {
  readonly stepIndex: number;
  readonly green: number;
  readonly last: boolean;
  /** When this step's weights were first written (the bake and the evidence count from here). */
  readonly bakeStartedAt: string;
  /** End of the bake: the plan's bake, at least the minimum bake (MIN_BAKE_SECONDS). */
  readonly bakeUntil: string;
  /** Past this the step stops waiting for evidence and pauses for a person. */
  readonly evidenceUntil: string;
  readonly bakeDone: boolean;
  /** Seconds the bake Wait state waits before the next check. */
  readonly nextWaitSeconds: number;
  readonly promoted: boolean;
  /** The step after this one: the next step, or the last with `--promote --full`. */
  readonly nextIndex: number;
  /** A person promoted the paused step: missing evidence does not hold the next increase. */
  readonly evidenceWaived: boolean;
  /** Set while the plan waits for a person. */
  readonly paused?: PauseReason;
  readonly alarmStates: Record<string, string>;
}

export interface SnapshotStatus {
  readonly snapshotId: string;
  readonly startedAt: string;
  readonly available: boolean;
  readonly status: string;
}

/** The execution's state document as the state machine passes it to every task. */
export interface RolloutState {
  readonly request: PlanRequest;
  readonly plan?: PlanContext;
  readonly cursor?: { readonly stepIndex: number };
  readonly snapshot?: SnapshotStatus;
  readonly step?: StepStatus;
  /** The last gate's result (alarm states when the step was allowed). */
  readonly gate?: { readonly alarmStates: Record<string, string> };
  /** Set by a Catch: the error that ended the plan. */
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

export interface RolloutEvent {
  readonly action: RolloutAction;
  readonly state: RolloutState;
  /** From the context object: `$$.Execution.Id` / `$$.Execution.Name`. */
  readonly execution?: { readonly id: string; readonly name: string };
}

export interface RolloutConfig {
  readonly envName: string;
  readonly stateTableName: string;
  readonly target: TrafficTarget;
  /** Critical composite alarm first, then green's alarms. */
  readonly alarmNames: string[];
  readonly checksMaxAgeSeconds: number;
  readonly checkIntervalSeconds: number;
  readonly dbInstanceIdentifier: string;
  readonly snapshotTimeoutSeconds: number;
  readonly snapshotQuotaLimit?: number;
  readonly criticalTopicArn: string;
  readonly warningTopicArn: string;
  /** docs/RUNBOOK.md as the on-call person opens it. */
  readonly runbookUrl?: string;
  /** Requests green must serve during a step before its bake completes (0: not counted). */
  readonly minRequestsPerStep: number;
  /** Seconds past the bake a step waits for that evidence before it pauses. */
  readonly evidenceWaitSeconds: number;
  /** Shortest bake: green's alarms could not have fired earlier. */
  readonly minBakeSeconds: number;
}

export interface RolloutContext {
  readonly config: RolloutConfig;
  readonly clients: GateClients & {
    readonly rds: RDSClient;
    readonly sns: SNSClient;
  };
  readonly now: () => Date;
}

export class PlanAbortedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanAborted';
  }
}

/** A plan waited (paused, or for evidence) past PLAN_LIMITS.maxPlanSeconds: it rolls back. */
export class PlanDeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanDeadline';
  }
}

export class SnapshotNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotFailed';
  }
}

/** A whole, non-negative number from the environment; a missing variable is `fallback`, garbage throws. */
function countEnv(name: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const text = optionalEnv(name, String(fallback), env);
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < 0) {
    throw new Error(
      `environment variable ${name}: got ${JSON.stringify(text)}, expected a whole number >= 0`,
    );
  }
  return value;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): RolloutConfig {
  const quota = optionalEnv('SNAPSHOT_QUOTA_LIMIT', '', env);
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
    alarmNames: JSON.parse(requireEnv('ALARM_NAMES', env)) as string[],
    checksMaxAgeSeconds: Number(requireEnv('CHECKS_MAX_AGE_SECONDS', env)),
    checkIntervalSeconds: Number(requireEnv('CHECK_INTERVAL_SECONDS', env)),
    dbInstanceIdentifier: requireEnv('DB_INSTANCE_IDENTIFIER', env),
    snapshotTimeoutSeconds: Number(requireEnv('SNAPSHOT_TIMEOUT_SECONDS', env)),
    snapshotQuotaLimit: quota === '' ? undefined : Number(quota),
    criticalTopicArn: requireEnv('CRITICAL_TOPIC_ARN', env),
    warningTopicArn: requireEnv('WARNING_TOPIC_ARN', env),
    runbookUrl: optionalEnv('RUNBOOK_URL', '', env) || undefined,
    minRequestsPerStep: countEnv('MIN_REQUESTS_PER_STEP', 0, env),
    evidenceWaitSeconds: countEnv('EVIDENCE_WAIT_SECONDS', EVIDENCE_DEFAULTS.evidenceWaitSeconds, env),
    minBakeSeconds: countEnv('MIN_BAKE_SECONDS', MIN_BAKE_SECONDS, env),
  };
}

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const defaultClients = {
  cloudwatch: new CloudWatchClient({}),
  doc,
  elbv2: new ElasticLoadBalancingV2Client({}),
  rds: new RDSClient({}),
  sns: new SNSClient({}),
};
const logger = createLogger({ function: 'rollout' });

export async function handler(event: RolloutEvent): Promise<unknown> {
  return runAction(event, { config: configFromEnv(), clients: defaultClients, now: () => new Date() });
}

export async function runAction(event: RolloutEvent, ctx: RolloutContext): Promise<unknown> {
  logger.info('action', { action: event.action, planId: event.state.plan?.planId ?? event.execution?.name });
  try {
    switch (event.action) {
      case 'start':
        return await start(event, ctx);
      case 'gate':
        return await gate(event.state, ctx);
      case 'snapshot-start':
        return await snapshotStart(event.state, ctx);
      case 'snapshot-status':
        return await snapshotStatus(event.state, ctx);
      case 'apply':
        return await apply(event.state, ctx);
      case 'bake-check':
        return await bakeCheck(event.state, ctx);
      case 'complete':
        return await complete(event.state, ctx);
      case 'rollback':
        return await rollback(event.state, ctx);
      case 'refuse':
        return await refuse(event, ctx);
      default:
        throw new Error(`unknown action ${JSON.stringify((event as { action: unknown }).action)}`);
    }
  } catch (err) {
    logger.error('action failed', {
      action: event.action,
      error: err instanceof Error ? err.name : 'Error',
      message: errorMessage(err),
    });
    throw err;
  }
}

function requirePlan(state: RolloutState): PlanContext {
  if (!state.plan) throw new Error('state has no plan: the start task did not run');
  return state.plan;
}

/**
 * TTL of a plan's lease: short, because every task renews it and tasks run at least every check interval
 * (bake) or snapshot poll (30 s); three missed intervals and a retry budget, at least 5 minutes.
 */
export function planLeaseSeconds(config: RolloutConfig): number {
  return Math.max(300, 3 * config.checkIntervalSeconds + 60);
}

function leaseOf(plan: PlanContext): Lease {
  return {
    owner: planLockOwner(plan.planId),
    leaseId: plan.leaseId,
    ttlSeconds: plan.leaseTtlSeconds,
    purpose: `rollout plan ${formatPlan(plan.steps)}`,
  };
}

/** Renews the plan's lease; a lost lease ends the plan (someone took over or a rollback released it). */
async function holdLease(plan: PlanContext, ctx: RolloutContext): Promise<void> {
  try {
    await renewLease(ctx.clients.doc, ctx.config.stateTableName, leaseOf(plan), ctx.now());
  } catch (err) {
    if (err instanceof LeaseLostError) throw new PlanAbortedError(err.message);
    throw err;
  }
}

async function start(event: RolloutEvent, ctx: RolloutContext): Promise<PlanContext> {
  const { config, clients } = ctx;
  const req = event.state.request;
  assertPlan(req.steps, req.bakeSeconds, req.pauses);
  if (!event.execution) throw new Error('start needs the execution id and name');
  const planId = event.execution.name;
  const owner = planLockOwner(planId);
  const now = ctx.now();
  const ttl = planLeaseSeconds(config);
  // The plan id is the lease id: a retried start (Step Functions Retry) gets its own lease back.
  await acquireLease(
    clients.doc,
    config.stateTableName,
    owner,
    `rollout plan ${formatPlan(req.steps)}`,
    ttl,
    ctx.now,
    {
      leaseId: planId,
    },
  );
  try {
    const from = await readListenerWeights(clients.elbv2, config.target);
    const plan: PlanContext = {
      planId,
      executionArn: event.execution.id,
      steps: [...req.steps],
      bakeSeconds: req.bakeSeconds,
      checkIntervalSeconds: config.checkIntervalSeconds,
      actor: req.actor,
      reason: req.reason,
      forcedAlarms: [...(req.forcedAlarms ?? [])],
      from,
      leaseId: planId,
      leaseTtlSeconds: ttl,
      pauses: [...(req.pauses ?? [])],
      startedAt: now.toISOString(),
    };
    await putNewPlanState(clients.doc, config.stateTableName, {
      planId,
      executionArn: plan.executionArn,
      status: 'running',
      phase: 'starting',
      steps: plan.steps,
      stepIndex: -1,
      bakeSeconds: plan.bakeSeconds,
      weights: from,
      actor: plan.actor,
      reason: plan.reason,
      startedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      ...(plan.pauses.length > 0 ? { pauses: plan.pauses } : {}),
      ...(req.retryOf ? { retryOf: req.retryOf } : {}),
    });
    return plan;
  } catch (err) {
    await releaseShiftLock(clients.doc, config.stateTableName, owner, planId);
    throw err;
  }
}

/**
 * The gates, evaluated now (also inside `apply`, right before the increase). With green in traffic a
 * watched alarm in INSUFFICIENT_DATA closes the `evidence` gate, unless a person promoted a paused step.
 */
async function checkGates(
  plan: PlanContext,
  ctx: RolloutContext,
  evidence: { greenWeight: number; waivedBy?: string; afterStep: boolean },
): Promise<Record<string, string>> {
  const { config, clients } = ctx;
  const result = await evaluateGates(
    clients,
    {
      alarmNames: config.alarmNames,
      checksMaxAgeSeconds: config.checksMaxAgeSeconds,
      stateTableName: config.stateTableName,
      greenTargetGroupArn: config.target.greenTargetGroupArn,
      ignoreAlarms: plan.forcedAlarms,
      criticalCompositeName: criticalCompositeAlarmName(config.envName),
      greenWeight: evidence.greenWeight,
      evidenceWaivedBy: evidence.waivedBy,
    },
    ctx.now(),
  );
  // Missing evidence after a step is not a failure: back to that step's bake loop (see the definition).
  if (!result.open && evidence.afterStep && result.closed.every((c) => c.gate === 'evidence'))
    throw new EvidenceMissingError(result.problems);
  if (!result.open) throw new GateClosedError(result.problems);
  return result.alarmStates;
}

/** Green's weight before the step at the cursor, and whether a person waived the evidence for it. */
function evidenceFor(
  state: RolloutState,
  plan: PlanContext,
): { greenWeight: number; waivedBy?: string; afterStep: boolean } {
  return {
    greenWeight: state.step?.green ?? plan.from.green,
    waivedBy: state.step?.evidenceWaived ? 'a person promoted the paused step' : undefined,
    afterStep: state.step !== undefined,
  };
}

async function gate(
  state: RolloutState,
  ctx: RolloutContext,
): Promise<{ alarmStates: Record<string, string> }> {
  const plan = requirePlan(state);
  const stepIndex = state.cursor?.stepIndex ?? 0;
  await holdLease(plan, ctx);
  await ensureRunning(plan, ctx, { phase: 'gates', stepIndex });
  return { alarmStates: await checkGates(plan, ctx, evidenceFor(state, plan)) };
}

/** Updates the plan item while it is running; an abort in between surfaces as PlanAborted. */
async function ensureRunning(
  plan: PlanContext,
  ctx: RolloutContext,
  fields: Partial<Omit<PlanState, 'planId'>>,
): Promise<PlanState> {
  try {
    return await updatePlanState(ctx.clients.doc, ctx.config.stateTableName, plan.planId, fields, {
      requireStatus: 'running',
      now: ctx.now(),
    });
  } catch (err) {
    if (err instanceof Error && err.name === 'PlanStateConflictError') {
      throw new PlanAbortedError(`plan ${plan.planId} was aborted (${err.message})`);
    }
    throw err;
  }
}

async function snapshotStart(state: RolloutState, ctx: RolloutContext): Promise<SnapshotStatus> {
  const { config, clients } = ctx;
  const plan = requirePlan(state);
  await holdLease(plan, ctx);
  await ensureRunning(plan, ctx, { phase: 'snapshot' });
  const startedAt = ctx.now();
  const result = await takeSnapshot(clients.rds, {
    envName: config.envName,
    instanceIdentifier: config.dbInstanceIdentifier,
    reason: 'pre-shift',
    now: startedAt,
    quotaLimit: config.snapshotQuotaLimit,
  });
  await ensureRunning(plan, ctx, { snapshotId: result.snapshotId });
  return {
    snapshotId: result.snapshotId,
    startedAt: startedAt.toISOString(),
    available: result.status === 'available',
    status: result.status,
  };
}

async function snapshotStatus(state: RolloutState, ctx: RolloutContext): Promise<SnapshotStatus> {
  const plan = requirePlan(state);
  const snap = state.snapshot;
  if (!snap) throw new Error('state has no snapshot: the snapshot-start task did not run');
  await holdLease(plan, ctx);
  const current = await readPlanState(ctx.clients.doc, ctx.config.stateTableName);
  if (current?.planId !== plan.planId || current.status !== 'running') {
    throw new PlanAbortedError(`plan ${plan.planId} was aborted while the pre-shift snapshot was taken`);
  }
  const info = await describeSnapshot(ctx.clients.rds, snap.snapshotId);
  const status = info?.status ?? 'missing';
  if (status === 'available') return { ...snap, available: true, status };
  const elapsed = (ctx.now().getTime() - Date.parse(snap.startedAt)) / 1000;
  if (!['creating', 'pending', 'backing-up', 'modifying'].includes(status)) {
    throw new SnapshotNotReadyError(`pre-shift snapshot ${snap.snapshotId} is ${status}, expected available`);
  }
  if (elapsed > ctx.config.snapshotTimeoutSeconds) {
    throw new SnapshotNotReadyError(
      `pre-shift snapshot ${snap.snapshotId} still ${status} after ${Math.round(elapsed)}s (limit ${ctx.config.snapshotTimeoutSeconds}s)`,
    );
  }
  return { ...snap, available: false, status };
}

function weightsFor(green: number): Weights {
  return { blue: 100 - green, green };
}

const same = (a: Weights | undefined, b: Weights | undefined) =>
  a !== undefined && b !== undefined && a.blue === b.blue && a.green === b.green;

/** The operation id of step `stepIndex` of a plan: a retried apply recognises its own write by it. */
export function stepOperationId(planId: string, stepIndex: number): string {
  return `${planId}#step-${stepIndex + 1}`;
}

/** A step that keeps waiting: the next check in `waitSeconds` (at least 1). */
function waiting(
  step: StepStatus,
  waitSeconds: number,
  alarmStates: Record<string, string>,
  paused?: PauseReason,
): StepStatus {
  return {
    ...step,
    bakeDone: false,
    promoted: false,
    nextWaitSeconds: Math.max(1, Math.ceil(waitSeconds)),
    paused,
    alarmStates,
  };
}

async function apply(state: RolloutState, ctx: RolloutContext): Promise<StepStatus> {
  const { config, clients } = ctx;
  const plan = requirePlan(state);
  const stepIndex = state.cursor?.stepIndex ?? 0;
  const green = plan.steps[stepIndex];
  if (green === undefined) throw new Error(`plan has no step ${stepIndex + 1}`);
  const target = weightsFor(green);
  const operationId = stepOperationId(plan.planId, stepIndex);
  await holdLease(plan, ctx);
  await ensureRunning(plan, ctx, { phase: 'applying', stepIndex });

  const [from, intent] = await Promise.all([
    readListenerWeights(clients.elbv2, config.target),
    readWeightsIntent(clients.doc, config.stateTableName),
  ]);
  // The weights before this step: the last step applied (with --promote --full, not steps[i - 1]).
  const expected = state.step
    ? weightsFor(state.step.green)
    : stepIndex === 0
      ? plan.from
      : weightsFor(plan.steps[stepIndex - 1] ?? 0);
  const mine = intent?.operationId === operationId;
  // The listener must show the previous step, or (a retry) this very step's own write.
  if (!(same(from, expected) || (mine && same(from, target)))) {
    throw new PlanAbortedError(
      `traffic changed outside plan ${plan.planId}: expected ${formatWeights(expected)}, found ${formatWeights(from)}`,
    );
  }
  if (!mine && intent && !same(intent.weights, expected)) {
    throw new PlanAbortedError(
      `the record of intent says ${formatWeights(intent.weights)} (written by ${intent.writer}, ${intent.operationId}), expected ${formatWeights(expected)}: another writer is at work`,
    );
  }
  // The gates once more, right before green's weight rises (the StepGate state ran them moments ago;
  // this is the last look, and the lease is renewed with it).
  const alarmStates =
    target.green > from.green
      ? await checkGates(plan, ctx, { ...evidenceFor(state, plan), greenWeight: from.green })
      : (state.gate?.alarmStates ?? {});
  const applied = await applyWeights(clients, config.target, target, {
    operationId,
    writer: planLockOwner(plan.planId),
    leaseId: plan.leaseId,
    now: ctx.now(),
  });
  // An abort marks the plan before it sets 100% blue; if it did so while the rule was being changed,
  // this step's weights may have landed after its rollback: put blue back and stop.
  const after = await readPlanState(clients.doc, config.stateTableName);
  if (after?.planId !== plan.planId || after.status !== 'running') {
    await applyWeights(clients, config.target, ALL_BLUE, {
      operationId: `${plan.planId}#aborted-during-step-${stepIndex + 1}`,
      writer: planLockOwner(plan.planId),
      now: ctx.now(),
    });
    throw new PlanAbortedError(
      `plan ${plan.planId} was aborted while step ${stepIndex + 1} was applied; traffic set back to 100% blue`,
    );
  }

  // The bake starts when this operation first wrote (a retry does not restart it).
  const written = await readWeightsIntent(clients.doc, config.stateTableName);
  const firstWrite = written?.operationId === operationId ? written.at : undefined;
  const now = ctx.now();
  const bakeStart = firstWrite ? new Date(firstWrite) : now;
  // Never shorter than the minimum bake: green's alarms could not have fired on this step before it.
  const bakeSeconds = Math.max(plan.bakeSeconds, config.minBakeSeconds);
  const bakeUntil = new Date(bakeStart.getTime() + bakeSeconds * 1000);
  const evidenceUntil = new Date(bakeUntil.getTime() + config.evidenceWaitSeconds * 1000);
  await ensureRunning(plan, ctx, {
    phase: 'baking',
    stepIndex,
    weights: applied,
    bakeStartedAt: bakeStart.toISOString(),
    bakeUntil: bakeUntil.toISOString(),
  });
  await recordShift(clients.doc, config.stateTableName, {
    actor: plan.actor,
    kind: 'plan-step',
    from: mine ? expected : from,
    to: applied,
    outcome: 'applied',
    forced: plan.forcedAlarms.length > 0,
    reason: plan.reason,
    snapshotId: state.snapshot?.snapshotId,
    alarmStates,
    planId: plan.planId,
    operationId,
    detail: `step ${stepIndex + 1}/${plan.steps.length} of ${formatPlan(plan.steps, plan.pauses)}, bake ${bakeSeconds}s${state.step?.evidenceWaived ? ' (evidence of the step before waived by a promote)' : ''}`,
    at: firstWrite ?? now.toISOString(),
  });
  await notify(
    ctx,
    config.warningTopicArn,
    `${resourcePrefix(config.envName)}: traffic ${formatWeights(applied)} (plan step ${stepIndex + 1}/${plan.steps.length})`,
    [
      `Rollout plan ${plan.planId} (${formatPlan(plan.steps)}) by ${plan.actor} moved traffic from ${formatWeights(expected)} to ${formatWeights(applied)}.`,
      `Baking until ${bakeUntil.toISOString()}, then until green served ${config.minRequestsPerStep} requests with every watched alarm OK (at most until ${evidenceUntil.toISOString()}, then the plan pauses); any watched alarm in ALARM or green without a healthy target rolls back to 100% blue.`,
      `Follow: npm run shift -- --env ${config.envName} --follow    Abort: npm run shift -- --env ${config.envName} --abort`,
    ].join('\n'),
  );
  const step: StepStatus = {
    stepIndex,
    green,
    last: stepIndex === plan.steps.length - 1,
    bakeStartedAt: bakeStart.toISOString(),
    bakeUntil: bakeUntil.toISOString(),
    evidenceUntil: evidenceUntil.toISOString(),
    bakeDone: false,
    nextWaitSeconds: 1,
    promoted: false,
    nextIndex: stepIndex + 1,
    evidenceWaived: false,
    alarmStates,
  };
  const remaining = (bakeUntil.getTime() - now.getTime()) / 1000;
  return waiting(step, Math.min(plan.checkIntervalSeconds, remaining), alarmStates);
}

/**
 * One check of a step's bake (the bake loop's task). In order:
 * 1. a watched alarm in ALARM, green without a healthy target, an abort or a traffic change ends the plan
 *    (rollback), whatever else holds;
 * 2. paused (a pause step, or no evidence in time): wait for `--promote` (that promote waives the missing
 *    evidence), up to the plan's deadline;
 * 3. before the minimum bake nothing ends the bake, a promote included; before the plan's bake only a
 *    promote does;
 * 4. then evidence: green served `minRequestsPerStep` requests since the step and no watched alarm is
 *    INSUFFICIENT_DATA. With it the bake is done (or the plan pauses at a pause step); without it the step
 *    waits up to `evidenceUntil`, then pauses for a person instead of promoting.
 */
async function bakeCheck(state: RolloutState, ctx: RolloutContext): Promise<StepStatus> {
  const { config, clients } = ctx;
  const plan = requirePlan(state);
  const step = state.step;
  if (!step) throw new Error('state has no step: the apply task did not run');
  await holdLease(plan, ctx);
  // The same signals as the CLI bake (bake-signals.ts): the alarms, green's target health, the data checks.
  const [signals, current, weights] = await Promise.all([
    readBakeSignals(clients, {
      alarmNames: config.alarmNames,
      ignoreAlarms: plan.forcedAlarms,
      criticalCompositeName: criticalCompositeAlarmName(config.envName),
      greenTargetGroupArn: config.target.greenTargetGroupArn,
      stateTableName: config.stateTableName,
    }),
    readPlanState(clients.doc, config.stateTableName),
    readListenerWeights(clients.elbv2, config.target),
  ]);
  const { alarmStates, firing, health } = signals;
  if (firing.length > 0) throw new AlarmFiringError([...firing]);
  if (health.healthy === 0) throw new GreenUnhealthyError(health.total);
  const checks = signals.failed.filter((f) => f.gate === 'data-checks');
  if (checks.length > 0) throw new GateClosedError(checks.map((c) => c.message));
  if (current?.planId !== plan.planId || current.status !== 'running') {
    throw new PlanAbortedError(
      `plan ${plan.planId} was aborted during the bake of step ${step.stepIndex + 1}`,
    );
  }
  if (!same(weights, weightsFor(step.green))) {
    throw new PlanAbortedError(
      `traffic changed outside plan ${plan.planId}: expected ${formatWeights(weightsFor(step.green))}, found ${formatWeights(weights)}`,
    );
  }
  const now = ctx.now();
  const promote =
    current.promoteStep === step.stepIndex
      ? { full: current.promoteFull === true, waives: current.promoteWaivesEvidence === true }
      : undefined;
  const done = (evidenceWaived: boolean): StepStatus => ({
    ...step,
    bakeDone: true,
    nextWaitSeconds: 0,
    promoted: promote !== undefined,
    nextIndex: promote?.full ? plan.steps.length - 1 : step.stepIndex + 1,
    evidenceWaived,
    paused: undefined,
    alarmStates,
  });
  const poll = PLAN_LIMITS.waitPollSeconds;
  const deadline = Date.parse(plan.startedAt) + PLAN_LIMITS.maxPlanSeconds * 1000;

  // 2. Paused: only a person moves it on.
  const pausedHere = current.phase === 'paused' && current.stepIndex === step.stepIndex;
  if (pausedHere && current.pauseReason) {
    // Only a promote given while paused moves a pause on (one given during the bake asked for less).
    if (promote?.waives) return done(true);
    if (now.getTime() > deadline) {
      throw new PlanDeadlineError(
        `plan ${plan.planId} paused at step ${step.stepIndex + 1} (${current.pauseReason}) past its ${PLAN_LIMITS.maxPlanSeconds / 3600}h deadline without a --promote`,
      );
    }
    return waiting(step, poll, alarmStates, current.pauseReason);
  }

  // 3. The bake's clock.
  const since = Date.parse(step.bakeStartedAt);
  const minBakeEnd = since + config.minBakeSeconds * 1000;
  const bakeEnd = Date.parse(step.bakeUntil);
  const untilSeconds = (t: number) => (t - now.getTime()) / 1000;
  if (now.getTime() < minBakeEnd) {
    return waiting(step, Math.min(plan.checkIntervalSeconds, untilSeconds(minBakeEnd)), alarmStates);
  }
  if (!promote && now.getTime() < bakeEnd) {
    return waiting(step, Math.min(plan.checkIntervalSeconds, untilSeconds(bakeEnd)), alarmStates);
  }

  // 4. Evidence.
  const requests =
    config.minRequestsPerStep > 0
      ? await greenRequestsSince(clients.cloudwatch, config.target, new Date(since), now)
      : undefined;
  const evidence = judgeEvidence({
    alarmStates,
    forcedAlarms: plan.forcedAlarms,
    requests,
    requiredRequests: config.minRequestsPerStep,
  });
  if (evidence.enough) {
    if (plan.pauses.includes(step.stepIndex) && !promote && !step.last) {
      await pause(plan, step, ctx, { reason: 'pause-step', evidence, alarmStates });
      return waiting(step, poll, alarmStates, 'pause-step');
    }
    await ensureRunning(plan, ctx, { evidence: describeEvidence(evidence) });
    return done(false);
  }
  if (now.getTime() > deadline) {
    throw new PlanDeadlineError(
      `plan ${plan.planId} waited for evidence at step ${step.stepIndex + 1} past its ${PLAN_LIMITS.maxPlanSeconds / 3600}h deadline (${describeEvidence(evidence)})`,
    );
  }
  if (now.getTime() < Date.parse(step.evidenceUntil)) {
    // The item shows this step waiting (also after a gate sent the plan back here for evidence).
    await ensureRunning(plan, ctx, {
      phase: 'baking',
      stepIndex: step.stepIndex,
      evidence: describeEvidence(evidence),
    });
    return waiting(
      step,
      Math.min(poll, Math.max(1, untilSeconds(Date.parse(step.evidenceUntil)))),
      alarmStates,
    );
  }
  await pause(plan, step, ctx, { reason: 'evidence', evidence, alarmStates });
  return waiting(step, poll, alarmStates, 'evidence');
}

/**
 * Marks the plan paused at `step` (the item shows it to --status and --follow), audits it once per step
 * (a stable operation id: a retried check does not record it twice) and announces it. Traffic is not
 * touched: green keeps the step's weight, still watched by every check.
 */
async function pause(
  plan: PlanContext,
  step: StepStatus,
  ctx: RolloutContext,
  p: { reason: PauseReason; evidence: Evidence; alarmStates: Record<string, string> },
): Promise<void> {
  const { config, clients } = ctx;
  const now = ctx.now();
  const why =
    p.reason === 'pause-step'
      ? `a pause step of the plan (${describeEvidence(p.evidence)})`
      : `not enough evidence by ${step.evidenceUntil}: ${describeEvidence(p.evidence)}`;
  await ensureRunning(plan, ctx, {
    phase: 'paused',
    stepIndex: step.stepIndex,
    pauseReason: p.reason,
    pausedAt: now.toISOString(),
    evidence: describeEvidence(p.evidence),
  });
  const w = weightsFor(step.green);
  await recordShift(clients.doc, config.stateTableName, {
    actor: plan.actor,
    kind: 'plan-pause',
    from: w,
    to: w,
    outcome: 'applied',
    forced: false,
    reason: plan.reason,
    alarmStates: p.alarmStates,
    planId: plan.planId,
    operationId: `${plan.planId}#pause-${step.stepIndex + 1}`,
    detail: `paused at step ${step.stepIndex + 1}/${plan.steps.length} (${p.reason}): ${why}`,
    at: now.toISOString(),
  });
  await notify(
    ctx,
    config.warningTopicArn,
    `${resourcePrefix(config.envName)}: rollout plan PAUSED at ${formatWeights(w)}, waiting for a person`,
    [
      `Rollout plan ${plan.planId} (${formatPlan(plan.steps, plan.pauses)}) paused at step ${step.stepIndex + 1}/${plan.steps.length}: ${why}.`,
      'Traffic is unchanged and still watched: an alarm in ALARM still rolls back to 100% blue.',
      `Promote: npm run shift -- --env ${config.envName} --promote [--full]    Abort: npm run shift -- --env ${config.envName} --abort`,
    ].join('\n'),
  );
}

/**
 * The plan reached its last step: mark it succeeded and release the lease. Idempotent (a retry after a
 * success finds it succeeded), and it never moves traffic: a failure here leaves the final weights and a
 * lease that expires by itself, never a rollback of a finished cutover.
 */
async function complete(
  state: RolloutState,
  ctx: RolloutContext,
): Promise<{ planId: string; weights: Weights }> {
  const { config, clients } = ctx;
  const plan = requirePlan(state);
  const current = await readPlanState(clients.doc, config.stateTableName);
  let done: PlanState;
  if (current?.planId === plan.planId && current.status === 'succeeded') {
    done = current;
  } else {
    done = await ensureRunning(plan, ctx, {
      status: 'succeeded',
      phase: 'done',
      endedAt: ctx.now().toISOString(),
    });
    await notify(
      ctx,
      config.warningTopicArn,
      `${resourcePrefix(config.envName)}: rollout plan complete, ${formatWeights(done.weights)}`,
      `Rollout plan ${plan.planId} (${formatPlan(plan.steps)}) by ${plan.actor} finished: traffic is ${formatWeights(done.weights)}.`,
    );
  }
  try {
    await releaseShiftLock(clients.doc, config.stateTableName, planLockOwner(plan.planId), plan.leaseId);
  } catch (err) {
    logger.warn('could not release the lease; it expires by itself', {
      ttlSeconds: plan.leaseTtlSeconds,
      message: errorMessage(err),
    });
  }
  return { planId: plan.planId, weights: done.weights };
}

/** Why the plan failed, from the Catch's error object, in one line. */
function describeCause(error: RolloutState['error']): string {
  if (!error) return 'unknown error';
  let cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed.errorMessage) cause = parsed.errorMessage;
  } catch {
    // Not JSON: a States.* error's plain text.
  }
  return `${error.Error ?? 'Error'}: ${cause}`.slice(0, 1000);
}

async function rollback(
  state: RolloutState,
  ctx: RolloutContext,
): Promise<{ outcome: 'rolled-back' | 'refused'; weights: Weights }> {
  const { config, clients } = ctx;
  const plan = requirePlan(state);
  const cause = describeCause(state.error);
  // Same handshake as an abort: mark first, so a step in flight puts blue back by itself.
  await markPlanAborting(clients.doc, config.stateTableName, cause, ctx.now());
  let from: Weights | undefined;
  let intended: Weights | undefined;
  try {
    from = await readListenerWeights(clients.elbv2, config.target);
    intended = (await readWeightsIntent(clients.doc, config.stateTableName))?.weights;
  } catch (err) {
    logger.warn('could not read the listener before rolling back', { message: errorMessage(err) });
  }
  // Whatever it read, the rollback writes everything it owns (rule and intent): a retry after a
  // half-applied earlier attempt converges. Never fenced: getting out is always allowed.
  await applyWeights(clients, config.target, ALL_BLUE, {
    operationId: `${plan.planId}#rollback`,
    writer: planLockOwner(plan.planId),
    now: ctx.now(),
  });
  const movedTraffic = from === undefined || from.green > 0 || (intended?.green ?? 0) > 0;
  const outcome = state.step === undefined && !movedTraffic ? 'refused' : 'rolled-back';
  const now = ctx.now();
  await updatePlanState(clients.doc, config.stateTableName, plan.planId, {
    status: outcome,
    phase: 'done',
    weights: ALL_BLUE,
    cause,
    endedAt: now.toISOString(),
  });
  await recordShift(clients.doc, config.stateTableName, {
    actor: plan.actor,
    kind: 'plan-abort',
    from: from ?? plan.from,
    to: ALL_BLUE,
    outcome,
    forced: false,
    reason: plan.reason,
    snapshotId: state.snapshot?.snapshotId,
    alarmStates: state.step?.alarmStates,
    planId: plan.planId,
    operationId: `${plan.planId}#rollback`,
    detail: cause,
    at: (await readWeightsIntent(clients.doc, config.stateTableName))?.at ?? now.toISOString(),
  });
  await releaseShiftLock(clients.doc, config.stateTableName, planLockOwner(plan.planId), plan.leaseId);
  const stepText = state.step
    ? `during step ${state.step.stepIndex + 1}/${plan.steps.length} (green ${state.step.green}%)`
    : 'before its first step';
  await notify(
    ctx,
    config.criticalTopicArn,
    `${resourcePrefix(config.envName)}: rollout plan ${outcome === 'refused' ? 'stopped' : 'ROLLED BACK to 100% blue'}`,
    [
      `Rollout plan ${plan.planId} (${formatPlan(plan.steps)}) by ${plan.actor} stopped ${stepText}.`,
      `Cause: ${cause}`,
      movedTraffic
        ? `Traffic was ${from ? formatWeights(from) : 'unknown'}; it is now ${formatWeights(ALL_BLUE)}.`
        : `Traffic was not moved: ${formatWeights(ALL_BLUE)}.`,
      `Status: npm run shift -- --env ${config.envName} --status`,
      `Runbook: ${config.runbookUrl ?? 'docs/RUNBOOK.md'}#rollout-plan-failed`,
    ].join('\n'),
  );
  return { outcome, weights: ALL_BLUE };
}

/** A plan that never started (invalid, or the lock is held): audit it; traffic is not touched. */
async function refuse(event: RolloutEvent, ctx: RolloutContext): Promise<{ outcome: 'refused' }> {
  const { config, clients } = ctx;
  const req = event.state.request;
  const cause = describeCause(event.state.error);
  let weights: Weights = ALL_BLUE;
  try {
    weights = await readListenerWeights(clients.elbv2, config.target);
  } catch (err) {
    logger.warn('could not read the listener', { message: errorMessage(err) });
  }
  // A start that failed half way (plan item written, then a crash) leaves nothing behind.
  const planId = event.execution?.name;
  if (planId) {
    const current = await readPlanState(clients.doc, config.stateTableName);
    if (current?.planId === planId && current.status === 'running') {
      await updatePlanState(clients.doc, config.stateTableName, planId, {
        status: 'refused',
        phase: 'done',
        cause,
        endedAt: ctx.now().toISOString(),
      });
    }
    await releaseShiftLock(clients.doc, config.stateTableName, planLockOwner(planId), planId);
  }
  await recordShift(clients.doc, config.stateTableName, {
    actor: req.actor,
    kind: 'plan-abort',
    from: weights,
    to: weights,
    outcome: 'refused',
    forced: false,
    reason: req.reason,
    planId: event.execution?.name,
    detail: `not started (traffic untouched): ${cause}`,
    at: ctx.now().toISOString(),
  });
  await notify(
    ctx,
    config.warningTopicArn,
    `${resourcePrefix(config.envName)}: rollout plan refused`,
    `Rollout plan ${event.execution?.name ?? ''} (${formatPlan(req.steps ?? [])}) by ${req.actor} did not start; traffic untouched.\nCause: ${cause}`,
  );
  return { outcome: 'refused' };
}

async function notify(
  ctx: RolloutContext,
  topicArn: string,
  subject: string,
  message: string,
): Promise<void> {
  try {
    await ctx.clients.sns.send(
      new PublishCommand({ TopicArn: topicArn, Subject: subject.slice(0, 100), Message: message }),
    );
  } catch (err) {
    // A lost announcement must not undo a traffic change that already happened; the audit has it.
    logger.error('could not publish to the topic', { topicArn, message: errorMessage(err) });
  }
}
