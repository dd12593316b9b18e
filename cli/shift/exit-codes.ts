import type { GateId } from '../../lambda/rollout/gates';
import type { FailureKind } from '../errors';

/**
 * Exit codes of `pipeline-guardrails shift`: one per refusal, so scripts and CI can tell them apart.
 * 2 (usage) is cli/main.ts's.
 */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  NOT_CONFIRMED: 3,
  WRONG_ACCOUNT: 4,
  NOT_DEPLOYED: 5,
  CRITICAL_ALARM: 10,
  GREEN_UNHEALTHY: 11,
  CHECKS_NOT_CLEAN: 12,
  LOCKED: 13,
  INVALID_WEIGHTS: 14,
  SNAPSHOT_FAILED: 15,
  PARITY_NOT_CLEAN: 16,
  NO_EVIDENCE: 17,
  ROLLED_BACK: 20,
  APPLY_FAILED: 21,
  PAUSED: 22,
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The exit code of a failure the one error formatter (cli/errors.ts `describeFailure`) described: the shift
 * command's own catch and cli/main.ts (for the plan modes) use this one mapping.
 */
export function exitCodeForFailure(kind: FailureKind): ExitCode {
  switch (kind) {
    case 'usage':
    case 'config':
      return EXIT.USAGE;
    case 'not-deployed':
      return EXIT.NOT_DEPLOYED;
    default:
      return EXIT.FAILED;
  }
}

/** The exit code of a refusal by each gate (lambda/rollout/gates.ts's typed ids). */
export const GATE_EXIT: Record<GateId, ExitCode> = {
  alarms: EXIT.CRITICAL_ALARM,
  'critical-any': EXIT.CRITICAL_ALARM,
  'green-health': EXIT.GREEN_UNHEALTHY,
  'data-checks': EXIT.CHECKS_NOT_CLEAN,
  lease: EXIT.LOCKED,
  parity: EXIT.PARITY_NOT_CLEAN,
  evidence: EXIT.NO_EVIDENCE,
};

/** Table for the usage text and the README. */
export const EXIT_CODE_HELP: readonly [number, string][] = [
  [EXIT.OK, 'done (or nothing to do, or a dry run that would proceed)'],
  [EXIT.FAILED, 'unexpected failure (AWS error); the message says what state traffic is in'],
  [EXIT.USAGE, 'bad arguments (no AWS call was made)'],
  [EXIT.NOT_CONFIRMED, 'prod change not confirmed (declined, or no terminal and no --yes)'],
  [EXIT.WRONG_ACCOUNT, "credentials are for another account than the environment's"],
  [EXIT.NOT_DEPLOYED, 'routing is not deployed in the environment (parameters missing)'],
  [
    EXIT.CRITICAL_ALARM,
    "refused: a critical alarm (or one of green's alarms) is in ALARM; --force --reason overrides",
  ],
  [EXIT.GREEN_UNHEALTHY, 'refused: green has no healthy targets'],
  [
    EXIT.CHECKS_NOT_CLEAN,
    'refused: data checks report a violation or error, or their summary is missing or stale',
  ],
  [EXIT.LOCKED, 'refused: another shift holds the lock'],
  [
    EXIT.INVALID_WEIGHTS,
    'refused: the listener is not in the shape this tool changes (what was found is printed)',
  ],
  [EXIT.SNAPSHOT_FAILED, 'refused: the pre-shift snapshot failed or timed out (traffic unchanged)'],
  [
    EXIT.PARITY_NOT_CLEAN,
    "refused: a parity pair's latest result is missing, stale, failed or over maxDifferences; --force --reason overrides",
  ],
  [
    EXIT.NO_EVIDENCE,
    'refused: green is in traffic and a watched alarm is INSUFFICIENT_DATA (not enough evidence that green is fine); wait for traffic, or promote a paused plan',
  ],
  [
    EXIT.ROLLED_BACK,
    'green failed during the bake (an alarm, or no healthy target): rolled back to 100% blue; or someone else took traffic from green',
  ],
  [EXIT.APPLY_FAILED, 'the weights could not be applied or recorded (see message)'],
  [
    EXIT.PAUSED,
    'the rollout plan is paused for a person (a pause step, or not enough evidence): --promote [--full] goes on, --abort returns to 100% blue',
  ],
  [
    EXIT.INTERRUPTED,
    'Ctrl-C during the snapshot (traffic unchanged) or the bake (new weights stay, unwatched)',
  ],
];
