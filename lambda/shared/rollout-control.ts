import { STATE_KEYS } from '../../lib/project';
import {
  ListExecutionsCommand,
  StopExecutionCommand,
  type ExecutionListItem,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Weights } from './traffic';

/**
 * The progressive rollout's shared state, used by the state machine's task function, the auto-rollback
 * function and the CLI (`shift --plan/--follow/--promote/--abort`):
 * - the current plan's item in the state table at pk `rollout#plan`, sk `current` (what step, what weights,
 *   when the bake ends, whether promote or abort was asked for);
 * - the running executions of the rollout state machine.
 *
 * The plan item is the handshake between the actors: whoever aborts marks it `aborting` BEFORE setting
 * 100% blue, and the step function re-reads it after changing the listener, so an abort that races a step
 * always ends at 100% blue.
 */
export const PLAN_KEY = STATE_KEYS.plan;

export type PlanStatus = 'running' | 'aborting' | 'succeeded' | 'rolled-back' | 'aborted' | 'refused';
export type PlanPhase = 'starting' | 'gates' | 'snapshot' | 'applying' | 'baking' | 'paused' | 'done';

/**
 * Why a plan waits for a person: a `pause` step of the plan, or a step whose bake ended without enough
 * evidence (too few green requests, or a watched alarm still INSUFFICIENT_DATA) within its evidence wait.
 */
export type PauseReason = 'pause-step' | 'evidence';

/** Statuses of a plan that still owns the environment's traffic. */
export const ACTIVE_PLAN_STATUSES: readonly PlanStatus[] = ['running', 'aborting'];

export interface PlanState {
  /** The execution name (`plan-<time>-<random>`). */
  readonly planId: string;
  readonly executionArn: string;
  readonly status: PlanStatus;
  readonly phase: PlanPhase;
  /** Green percentages, e.g. [10, 25, 50, 100]. */
  readonly steps: readonly number[];
  /** Index into `steps` of the step applied or being gated; -1 before the first. */
  readonly stepIndex: number;
  readonly bakeSeconds: number;
  /** Weights the listener was set to by this plan (or found at start). */
  readonly weights: Weights;
  readonly actor: string;
  readonly reason?: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly bakeStartedAt?: string;
  /** ISO time the current step's bake ends. */
  readonly bakeUntil?: string;
  /** A promote asked for this step index: its bake ends at the next check (not before the minimum bake). */
  readonly promoteStep?: number;
  /** The promote asked for `--full`: the next increase is the plan's last step. */
  readonly promoteFull?: boolean;
  /** The promote was given while the step was paused: missing evidence does not hold the next increase. */
  readonly promoteWaivesEvidence?: boolean;
  /** Who promoted (IAM principal ARN). */
  readonly promotedBy?: string;
  /** Indexes into `steps` followed by a `pause` step (`--plan 10,pause,25`: [0]). */
  readonly pauses?: readonly number[];
  /** While paused: why, and since when (ISO). */
  readonly pauseReason?: PauseReason;
  readonly pausedAt?: string;
  /** The current step's evidence as last judged (see lambda/rollout/evidence.ts). */
  readonly evidence?: string;
  /** The aborted plan this one retries (`shift --retry`). */
  readonly retryOf?: string;
  readonly snapshotId?: string;
  readonly endedAt?: string;
  /** Why the plan ended other than by success (gate, alarm, abort, error). */
  readonly cause?: string;
}

/** Owner of the shift lock while a plan runs, so a manual shift and a plan exclude each other. */
export function planLockOwner(planId: string): string {
  return `plan:${planId}`;
}

export async function readPlanState(
  doc: DynamoDBDocumentClient,
  tableName: string,
): Promise<PlanState | undefined> {
  const out = await doc.send(new GetCommand({ TableName: tableName, Key: PLAN_KEY, ConsistentRead: true }));
  if (!out.Item) return undefined;
  const { pk: _pk, sk: _sk, ...rest } = out.Item;
  return rest as PlanState;
}

/** Thrown when the plan item is not in the state an update expects (another actor got there first). */
export class PlanStateConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanStateConflictError';
  }
}

/** Writes a new plan item; refuses while another plan is active (its item says running or aborting). */
export async function putNewPlanState(
  doc: DynamoDBDocumentClient,
  tableName: string,
  state: PlanState,
): Promise<void> {
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...PLAN_KEY, ...state },
        ConditionExpression:
          'attribute_not_exists(pk) OR NOT (#status IN (:running, :aborting)) OR planId = :id',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':running': 'running', ':aborting': 'aborting', ':id': state.planId },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) {
      throw new PlanStateConflictError('another rollout plan is active in this environment');
    }
    throw err;
  }
}

/**
 * Updates fields of plan `planId`. With `requireStatus`, only while the plan has that status; throws
 * PlanStateConflictError otherwise (for example after an abort). Returns the item as written.
 */
export async function updatePlanState(
  doc: DynamoDBDocumentClient,
  tableName: string,
  planId: string,
  fields: Partial<Omit<PlanState, 'planId'>>,
  options: { requireStatus?: PlanStatus; now?: Date } = {},
): Promise<PlanState> {
  const set: Record<string, unknown> = {
    ...fields,
    updatedAt: (options.now ?? new Date()).toISOString(),
  };
  const names: Record<string, string> = { '#planId': 'planId' };
  const values: Record<string, unknown> = { ':planId': planId };
  const assignments = Object.entries(set)
    .filter(([, v]) => v !== undefined)
    .map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = v;
      return `#f${i} = :v${i}`;
    });
  let condition = '#planId = :planId';
  if (options.requireStatus) {
    names['#status'] = 'status';
    values[':required'] = options.requireStatus;
    condition += ' AND #status = :required';
  }
  try {
    const out = await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: PLAN_KEY,
        UpdateExpression: `SET ${assignments.join(', ')}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const { pk: _pk, sk: _sk, ...rest } = out.Attributes ?? {};
    return rest as PlanState;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) {
      throw new PlanStateConflictError(
        options.requireStatus
          ? `plan ${planId} is no longer ${options.requireStatus}`
          : `plan ${planId} is not the current plan`,
      );
    }
    throw err;
  }
}

/**
 * Marks the active plan `aborting` (first thing an abort or auto-rollback does, before touching traffic)
 * and returns it; undefined when no plan is active.
 */
export async function markPlanAborting(
  doc: DynamoDBDocumentClient,
  tableName: string,
  cause: string,
  now: Date = new Date(),
): Promise<PlanState | undefined> {
  try {
    const out = await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: PLAN_KEY,
        UpdateExpression: 'SET #status = :aborting, #cause = :cause, updatedAt = :now',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status', '#cause': 'cause' },
        ExpressionAttributeValues: {
          ':aborting': 'aborting',
          ':running': 'running',
          ':cause': cause,
          ':now': now.toISOString(),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const { pk: _pk, sk: _sk, ...rest } = out.Attributes ?? {};
    return rest as PlanState;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}

export interface PromoteRequest {
  readonly planId: string;
  readonly stepIndex: number;
  /** `--full`: skip the remaining steps (and their pauses) to the plan's last step. */
  readonly full: boolean;
  /** Promoting a paused step: the person's decision stands in for the missing evidence. */
  readonly waivesEvidence: boolean;
  readonly actor: string;
}

/**
 * Asks the running plan to end the bake (or the pause) of step `stepIndex` at its next check. Idempotent:
 * repeating the same request writes the same fields.
 */
export async function requestPromote(
  doc: DynamoDBDocumentClient,
  tableName: string,
  req: PromoteRequest,
  now: Date = new Date(),
): Promise<void> {
  const { planId, stepIndex } = req;
  try {
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: PLAN_KEY,
        UpdateExpression:
          'SET promoteStep = :step, promoteFull = :full, promoteWaivesEvidence = :waive, promotedBy = :actor, updatedAt = :now',
        ConditionExpression: 'planId = :planId AND #status = :running AND stepIndex = :step',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':step': stepIndex,
          ':full': req.full,
          ':waive': req.waivesEvidence,
          ':actor': req.actor,
          ':planId': planId,
          ':running': 'running',
          ':now': now.toISOString(),
        },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) {
      throw new PlanStateConflictError(
        `plan ${planId} is no longer running step ${stepIndex + 1}; nothing to promote`,
      );
    }
    throw err;
  }
}

/** The rollout state machine's executions that are still running (normally zero or one). */
export async function listRunningPlans(
  sfn: SFNClient,
  stateMachineArn: string,
): Promise<ExecutionListItem[]> {
  const running: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const out = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', nextToken, maxResults: 100 }),
    );
    running.push(...(out.executions ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return running;
}

/**
 * Stops every running execution of the rollout state machine. A stopped execution runs no more states
 * (its catch paths included), so the caller sets the traffic itself. Returns the stopped execution ARNs.
 */
export async function stopRunningPlans(
  sfn: SFNClient,
  stateMachineArn: string,
  cause: string,
): Promise<string[]> {
  const running = await listRunningPlans(sfn, stateMachineArn);
  const stopped: string[] = [];
  for (const e of running) {
    if (!e.executionArn) continue;
    await sfn.send(
      new StopExecutionCommand({
        executionArn: e.executionArn,
        error: 'PlanAborted',
        cause: cause.slice(0, 32_768),
      }),
    );
    stopped.push(e.executionArn);
  }
  return stopped;
}

export interface ActivePlan {
  /** The running execution, when there is one. */
  readonly execution?: ExecutionListItem;
  /** The plan item (of the running execution, or of the last plan when none runs). */
  readonly state?: PlanState;
}

/** What runs now: the running execution (if any) and the plan item. */
export async function describeActivePlan(
  sfn: SFNClient,
  doc: DynamoDBDocumentClient,
  tableName: string,
  stateMachineArn: string,
): Promise<ActivePlan> {
  const [running, state] = await Promise.all([
    listRunningPlans(sfn, stateMachineArn),
    readPlanState(doc, tableName),
  ]);
  return { execution: running[0], state };
}
