import type { SFNClient } from '@aws-sdk/client-sfn';
import { errorMessage } from './env';
import {
  markPlanAborting,
  planLockOwner,
  readPlanState,
  stopRunningPlans,
  updatePlanState,
  ACTIVE_PLAN_STATUSES,
  type PlanState,
  type PlanStatus,
} from './rollout-control';
import { releaseShiftLock } from './shift-audit';
import {
  ALL_BLUE,
  applyWeights,
  readListenerWeights,
  type TrafficClients,
  type TrafficTarget,
  type Weights,
} from './traffic';

export interface RollbackRequest {
  readonly target: TrafficTarget;
  /** Stops running plans of this state machine (when the environment has one). */
  readonly stateMachineArn?: string;
  readonly writer: string;
  readonly cause: string;
  readonly operationId: string;
  /** Status the ended plan gets. */
  readonly planStatus: Extract<PlanStatus, 'aborted' | 'rolled-back'>;
  readonly now: () => Date;
}

export interface RollbackResult {
  readonly from?: Weights;
  /** What the rule applies after the attempt (undefined when unreadable). */
  readonly after?: Weights;
  /** True when both representations were written to 100% blue. */
  readonly written: boolean;
  readonly trafficError?: unknown;
  /** The plan that was ended (if one was active). */
  readonly plan?: PlanState;
  readonly stoppedExecutions: string[];
  /** Steps other than the traffic write that failed (each says what is left behind). */
  readonly problems: string[];
}

/**
 * The one rollback path of the CLI (`--rollback`, `--abort`): it ends a running plan cleanly and sets
 * 100% blue, each step independent of the others' failures, in the order that keeps the invariants:
 * 1. mark the plan `aborting` (a step in flight re-reads it and puts blue back itself);
 * 2. stop its execution (it must not move traffic again);
 * 3. write 100% blue to the rule and the record of intent, whatever they read (convergent, unfenced);
 * 4. close the plan item and release the plan's lease.
 * A failed traffic write still ends the plan; running the command again converges.
 */
/** Runs a step up to three times (a throttle is not a reason to leave a plan half ended). */
async function retrying<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const conditional = err instanceof Error && err.name === 'ConditionalCheckFailedException';
      if (conditional || attempt >= 3) throw err;
    }
  }
}

export async function rollBackAndEndPlan(
  clients: TrafficClients & { readonly sfn: SFNClient },
  req: RollbackRequest,
): Promise<RollbackResult> {
  const problems: string[] = [];
  const stoppedExecutions: string[] = [];
  const table = req.target.stateTableName;
  let plan: PlanState | undefined;
  try {
    plan = await retrying(() => markPlanAborting(clients.doc, table, req.cause.slice(0, 1000), req.now()));
    // An item already `aborting` (an earlier rollback that failed half way) is ours to finish too.
    if (!plan) {
      const current = await retrying(() => readPlanState(clients.doc, table));
      if (current && ACTIVE_PLAN_STATUSES.includes(current.status)) plan = current;
    }
  } catch (err) {
    problems.push(`could not mark the rollout plan aborting: ${errorMessage(err)}`);
  }
  if (req.stateMachineArn) {
    try {
      stoppedExecutions.push(
        ...(await retrying(() => stopRunningPlans(clients.sfn, req.stateMachineArn!, req.cause))),
      );
    } catch (err) {
      problems.push(`could not stop the rollout plan's execution: ${errorMessage(err)}`);
    }
  }
  let from: Weights | undefined;
  try {
    from = await readListenerWeights(clients.elbv2, req.target);
  } catch (err) {
    problems.push(`could not read the listener first: ${errorMessage(err)}`);
  }
  let written = false;
  let trafficError: unknown;
  try {
    await applyWeights(clients, req.target, ALL_BLUE, {
      operationId: req.operationId,
      writer: req.writer,
      now: req.now(),
    });
    written = true;
  } catch (err) {
    trafficError = err;
  }
  let after: Weights | undefined = written ? ALL_BLUE : undefined;
  if (!written) {
    try {
      after = await readListenerWeights(clients.elbv2, req.target);
    } catch {
      // Unknown: the caller says so.
    }
  }
  if (plan) {
    try {
      const planId = plan.planId;
      const weights = after ?? plan.weights;
      await retrying(() =>
        updatePlanState(clients.doc, table, planId, {
          status: req.planStatus,
          phase: 'done',
          weights,
          cause: req.cause.slice(0, 1000),
          endedAt: req.now().toISOString(),
        }),
      );
    } catch (err) {
      problems.push(`could not close plan ${plan.planId}: ${errorMessage(err)}`);
    }
    try {
      const owner = planLockOwner(plan.planId);
      await retrying(() => releaseShiftLock(clients.doc, table, owner));
    } catch (err) {
      problems.push(`could not release the plan's lease (it expires by itself): ${errorMessage(err)}`);
    }
  }
  return { from, after, written, trafficError, plan, stoppedExecutions, problems };
}
