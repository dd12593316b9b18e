/**
 * A rollout plan: the green percentages to step through and how long to bake at each. Validated the same
 * way by the CLI (before any AWS call) and by the state machine's first task (defence in depth).
 */
export interface PlanRequest {
  /** Green percentages, strictly increasing, e.g. [10, 25, 50, 100]. */
  readonly steps: readonly number[];
  /** Seconds to watch the alarms after each step before the next one. */
  readonly bakeSeconds: number;
  /** Who asked (IAM principal ARN of the operator). */
  readonly actor: string;
  readonly reason?: string;
  /**
   * Alarms that were in ALARM when the operator started the plan with `--force --reason`: the gates and
   * bake checks ignore these (and only these); the audit records the plan's steps as forced.
   */
  readonly forcedAlarms?: readonly string[];
  /** Indexes into `steps` followed by a `pause` step: the plan waits there for `shift --promote`. */
  readonly pauses?: readonly number[];
  /** The aborted plan this one retries (`shift --retry`). */
  readonly retryOf?: string;
}

/**
 * The evaluation window of green's service-level alarms (lib/constructs/weighted-routing-alarms.ts builds
 * them from these numbers): 1-minute periods, ALARM when 2 of the last 3 breach. The load balancer
 * publishes a minute's datapoint up to about a minute after it ends.
 */
export const GREEN_ALARM_WINDOW = {
  periodSeconds: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  metricDelaySeconds: 60,
} as const;

/**
 * The shortest bake after which green's alarms could have fired on what the step changed: the first
 * `datapointsToAlarm` complete minutes after the change, plus the metric delay (2 x 60 s + 60 s = 180 s).
 * A shorter bake (`--bake 0`) or an earlier `--promote` would promote on alarms that could not yet speak.
 */
export const MIN_BAKE_SECONDS =
  GREEN_ALARM_WINDOW.datapointsToAlarm * GREEN_ALARM_WINDOW.periodSeconds +
  GREEN_ALARM_WINDOW.metricDelaySeconds;

/**
 * Evidence before promotion, by default (`routing.minRequestsPerStep`, `routing.evidenceWaitSeconds`): the one
 * place the config schema, the rollout construct, its task function and the plan command take them from.
 */
export const EVIDENCE_DEFAULTS = { minRequestsPerStep: 100, evidenceWaitSeconds: 1800 } as const;

export const PLAN_LIMITS = {
  maxSteps: 10,
  /** Longest bake of one step. */
  maxBakeSeconds: 6 * 3600,
  /**
   * Longest total bake. A Standard workflow keeps at most 25,000 history events; one bake check costs about
   * nine, so 12 h of 30-second checks (1,440 checks, ~13,000 events) stays well inside it.
   */
  maxTotalBakeSeconds: 12 * 3600,
  /**
   * Longest a plan may run from its start, pauses and evidence waits included; past it a waiting plan rolls
   * back (as Argo Rollouts' progressDeadlineAbort). Pauses and evidence waits poll once a minute, so with
   * the 12 h of 30-second bake checks the history stays under 25,000 events.
   */
  maxPlanSeconds: 24 * 3600,
  /** Time between checks while a plan waits for evidence or is paused. */
  waitPollSeconds: 60,
} as const;

/** Problems with a plan (empty when valid); each names the value and what was expected. */
export function planProblems(
  steps: readonly unknown[],
  bakeSeconds: unknown,
  pauses: readonly unknown[] = [],
): string[] {
  const problems: string[] = [];
  if (steps.length === 0 || steps.length > PLAN_LIMITS.maxSteps) {
    problems.push(`plan: got ${steps.length} steps, expected 1 to ${PLAN_LIMITS.maxSteps}`);
  }
  steps.forEach((s, i) => {
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 1 || s > 100) {
      problems.push(
        `plan step ${i + 1}: got ${JSON.stringify(s)}, expected a green percentage from 1 to 100`,
      );
    } else if (i > 0) {
      const prev = steps[i - 1];
      if (typeof prev === 'number' && s <= prev) {
        problems.push(`plan step ${i + 1}: got ${s} after ${prev}, expected each step above the one before`);
      }
    }
  });
  pauses.forEach((p, i) => {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= steps.length - 1) {
      problems.push(
        `plan pause ${i + 1}: got ${JSON.stringify(p)}, expected a pause after a step and before the last step`,
      );
    } else if (pauses.indexOf(p) !== i) {
      problems.push(`plan pause ${i + 1}: two pauses after step ${p + 1}, expected one`);
    }
  });
  if (
    typeof bakeSeconds !== 'number' ||
    !Number.isInteger(bakeSeconds) ||
    bakeSeconds < 0 ||
    bakeSeconds > PLAN_LIMITS.maxBakeSeconds
  ) {
    problems.push(
      `bake: got ${JSON.stringify(bakeSeconds)} seconds, expected ${MIN_BAKE_SECONDS} to ${PLAN_LIMITS.maxBakeSeconds} (6h)`,
    );
  } else if (bakeSeconds < MIN_BAKE_SECONDS) {
    problems.push(
      `bake: got ${bakeSeconds}s, expected at least ${MIN_BAKE_SECONDS}s: green's alarms need ${GREEN_ALARM_WINDOW.datapointsToAlarm} one-minute datapoints and about ${GREEN_ALARM_WINDOW.metricDelaySeconds}s of metric delay before they can fire, so a shorter bake would promote on alarms that could not yet speak`,
    );
  } else if (bakeSeconds * steps.length > PLAN_LIMITS.maxTotalBakeSeconds) {
    problems.push(
      `bake: ${steps.length} steps of ${bakeSeconds}s bake ${bakeSeconds * steps.length}s in all, expected at most ${PLAN_LIMITS.maxTotalBakeSeconds}s (12h)`,
    );
  }
  return problems;
}

export class InvalidPlanError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'InvalidPlan';
  }
}

export function assertPlan(
  steps: readonly unknown[],
  bakeSeconds: unknown,
  pauses?: readonly unknown[],
): void {
  const problems = planProblems(steps, bakeSeconds, pauses);
  if (problems.length > 0) throw new InvalidPlanError(problems);
}

/** `10% -> 25% -> 50% -> 100%`, with `pause` where the plan waits for a person. */
export function formatPlan(steps: readonly number[], pauses: readonly number[] = []): string {
  return steps.map((s, i) => (pauses.includes(i) ? `${s}% -> pause` : `${s}%`)).join(' -> ');
}
