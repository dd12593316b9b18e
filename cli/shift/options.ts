import { ENVIRONMENT_NAMES, type EnvironmentName } from '../../lib/project';
import { weightProblems, type Weights } from '../../lambda/shared/traffic';
import { parseCliArgs, parseDuration, UsageError } from '../io';
import { EXIT_CODE_HELP } from './exit-codes';
import { PLAN_LIMITS } from '../../lambda/rollout/plan';

/** Longest bake of a manual shift: the bound of routing.bakeSeconds (lib/config/sections/routing.ts), one day. */
export const MAX_SHIFT_BAKE_MS = 86_400_000;

/** What `runPlanCommand` (cli/shift/plan.ts, the progressive rollout) takes. */
export interface PlanCommandOptions {
  envName: string;
  plan?: number[];
  /** Indexes into `plan` followed by a `pause` step (`--plan 10,pause,25`: [0]). */
  pauses?: number[];
  bakeMs?: number;
  follow: boolean;
  promote: boolean;
  /** With --promote: skip the remaining steps to the plan's last one. */
  full?: boolean;
  abort: boolean;
  /** Start the last aborted (or refused) plan again: same steps, from the first. */
  retry?: boolean;
  json: boolean;
  yes: boolean;
  dryRun: boolean;
  reason?: string;
  force: boolean;
}

interface Common {
  readonly envName: EnvironmentName;
  readonly json: boolean;
  readonly yes: boolean;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly reason?: string;
}

export type ShiftOptions =
  | (Common & { readonly mode: 'shift'; readonly target: Weights; readonly bakeMs?: number })
  | (Common & { readonly mode: 'rollback' })
  | (Common & { readonly mode: 'status' })
  | (Common & { readonly mode: 'plan'; readonly plan: PlanCommandOptions });

export const SHIFT_USAGE = `Usage: pipeline-guardrails shift --env <dev|staging|prod> <what> [options]
       npm run shift -- --env prod --green 25

What (exactly one):
  --green <0-100>        move to this green percentage (blue gets the rest); or --blue <0-100>
  --rollback             100% blue now: no preflight, no confirmation, no lock (seconds)
  --status               weights, alarms, targets, data checks, lock, last snapshot, recent shifts
  --plan <10,25,50,100>  start a progressive rollout run by the environment (then follows it);
                         a step may be "pause" (10,pause,25,50,100): the plan waits there for --promote
  --follow | --promote | --abort   re-attach to / skip the current bake or pause of / abort the running rollout
  --promote --full       skip the remaining steps to the plan's last one (the gates still run first)
  --retry                start the last aborted plan again (new execution, same steps, from the first)

Options:
  --bake <duration>      watch green's alarms this long after the change, roll back if one fires
                         (default: the environment's routing.bakeSeconds; 0 = no bake), e.g. 90s, 5m, 1h;
                         a unit is required; at most 1d (with --plan: 6h per step)
  --dry-run              show what would be done (preflight included), change nothing
  --json                 one JSON object on stdout (progress goes to stderr)
  --yes, -y              do not ask for confirmation in prod (required without a terminal)
  --force --reason "..." shift although critical alarms are in ALARM (recorded); other checks still apply
  --reason "..."         recorded in the audit and the announcement

Exit codes:
${EXIT_CODE_HELP.map(([c, t]) => `  ${String(c).padStart(2)}  ${t}`).join('\n')}`;

const OPTIONS = {
  env: { type: 'string' },
  green: { type: 'string' },
  blue: { type: 'string' },
  rollback: { type: 'boolean', default: false },
  status: { type: 'boolean', default: false },
  plan: { type: 'string' },
  follow: { type: 'boolean', default: false },
  promote: { type: 'boolean', default: false },
  full: { type: 'boolean', default: false },
  abort: { type: 'boolean', default: false },
  retry: { type: 'boolean', default: false },
  bake: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  yes: { type: 'boolean', short: 'y', default: false },
  force: { type: 'boolean', default: false },
  reason: { type: 'string' },
} as const;

function percent(text: string, flag: string): number {
  if (!/^\d{1,3}$/.test(text.trim()) || Number(text) > 100) {
    throw new UsageError(
      `${flag}: got ${JSON.stringify(text)}, expected an integer percentage from 0 to 100`,
    );
  }
  return Number(text);
}

/** Parses and validates the command line. Throws UsageError (exit 2) before any AWS call. */
export function parseShiftArgs(argv: string[]): ShiftOptions {
  const { values: v } = parseCliArgs(argv, OPTIONS);
  if (v.env === undefined) throw new UsageError(`--env is required: one of ${ENVIRONMENT_NAMES.join(', ')}`);
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(v.env)) {
    throw new UsageError(
      `--env: got ${JSON.stringify(v.env)}, expected one of ${ENVIRONMENT_NAMES.join(', ')}`,
    );
  }
  const envName = v.env as EnvironmentName;
  const isShift = v.green !== undefined || v.blue !== undefined;
  const planFlags = (['plan', 'follow', 'promote', 'abort', 'retry'] as const).filter((f) =>
    f === 'plan' ? v.plan !== undefined : v[f],
  );
  const modes = [
    isShift && '--green/--blue',
    v.rollback && '--rollback',
    v.status && '--status',
    ...planFlags.map((f) => `--${f}`),
  ].filter((m): m is string => typeof m === 'string');
  if (modes.length === 0) {
    throw new UsageError('nothing to do: give --green <percent>, --rollback, --status or --plan <steps>');
  }
  if (modes.length > 1) throw new UsageError(`choose one of ${modes.join(', ')}`);

  const reason = v.reason?.trim();
  if (v.reason !== undefined && !reason) throw new UsageError('--reason: got an empty text, expected why');
  if (v.force && !reason)
    throw new UsageError('--force needs --reason "<why>" (it is recorded in the audit)');
  if (v.force && !(isShift || v.plan !== undefined))
    throw new UsageError('--force applies to --green/--blue or --plan only');
  if (v.bake !== undefined && !(isShift || v.plan !== undefined || v.retry)) {
    throw new UsageError('--bake applies to --green/--blue, --plan or --retry only');
  }
  if (v.full && !v.promote) throw new UsageError('--full applies to --promote only');
  if (v['dry-run'] && v.status)
    throw new UsageError('--dry-run with --status: --status changes nothing already');
  const bakeMs =
    v.bake === undefined
      ? undefined
      : parseDuration(v.bake, '--bake', {
          maxMs: v.plan !== undefined ? PLAN_LIMITS.maxBakeSeconds * 1000 : MAX_SHIFT_BAKE_MS,
        });
  const common: Common = { envName, json: v.json, yes: v.yes, dryRun: v['dry-run'], force: v.force, reason };

  if (isShift) {
    const green = v.green === undefined ? undefined : percent(v.green, '--green');
    const blue = v.blue === undefined ? undefined : percent(v.blue, '--blue');
    const target = { blue: blue ?? 100 - (green as number), green: green ?? 100 - (blue as number) };
    const problems = weightProblems(target);
    if (problems.length > 0) throw new UsageError(`--blue/--green: ${problems.join('; ')}`);
    return { ...common, mode: 'shift', target, bakeMs };
  }
  if (v.rollback) return { ...common, mode: 'rollback' };
  if (v.status) return { ...common, mode: 'status' };

  let plan: number[] | undefined;
  let pauses: number[] | undefined;
  if (v.plan !== undefined) {
    ({ steps: plan, pauses } = parsePlanSteps(v.plan));
    if (plan.some((p) => p === 0))
      throw new UsageError(`--plan: got ${JSON.stringify(v.plan)}, expected steps above 0`);
    if (plan.some((p, i) => i > 0 && p <= (plan as number[])[i - 1]!)) {
      throw new UsageError(
        `--plan: got ${JSON.stringify(v.plan)}, expected strictly increasing green percentages such as 10,25,50,100`,
      );
    }
  }
  return {
    ...common,
    mode: 'plan',
    plan: {
      envName,
      plan,
      ...(pauses && pauses.length > 0 ? { pauses } : {}),
      bakeMs,
      follow: v.follow,
      promote: v.promote,
      full: v.full,
      abort: v.abort,
      retry: v.retry,
      json: v.json,
      yes: v.yes,
      dryRun: v['dry-run'],
      reason,
      force: v.force,
    },
  };
}

/**
 * `10,pause,25,50,100` -> steps [10, 25, 50, 100] and pauses [0] (a pause after the first step). A pause
 * needs a step before it and one after it (there is nothing to promote to after the last), one at a time.
 */
export function parsePlanSteps(text: string): { steps: number[]; pauses: number[] } {
  const tokens = text.split(',').map((t) => t.trim());
  const steps: number[] = [];
  const pauses: number[] = [];
  tokens.forEach((t, i) => {
    if (t.toLowerCase() !== 'pause') {
      steps.push(percent(t, '--plan'));
      return;
    }
    const where =
      i === 0
        ? 'first (a pause follows a step)'
        : i === tokens.length - 1
          ? 'last (nothing to promote to after it)'
          : tokens[i - 1]?.toLowerCase() === 'pause'
            ? 'after another pause'
            : undefined;
    if (where)
      throw new UsageError(
        `--plan: got ${JSON.stringify(text)}, a pause cannot come ${where}; for example 10,pause,25,50,100`,
      );
    pauses.push(steps.length - 1);
  });
  return { steps, pauses };
}
