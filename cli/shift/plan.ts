import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../lib/config';
import { criticalCompositeAlarmName, resourcePrefix } from '../../lib/project';
import {
  alarmsInAlarm,
  evaluateGates,
  readAlarmStates,
  type GateProblem,
  type GateResult,
} from '../../lambda/rollout/gates';
import { formatPlan, MIN_BAKE_SECONDS, planProblems } from '../../lambda/rollout/plan';
import { errorMessage } from '../../lambda/shared/env';
import {
  ACTIVE_PLAN_STATUSES,
  describeActivePlan,
  readPlanState,
  requestPromote,
  type PlanState,
} from '../../lambda/shared/rollout-control';
import { LOCK_KEY, recordShift } from '../../lambda/shared/shift-audit';
import { ALL_BLUE, formatWeights, readListenerWeights } from '../../lambda/shared/traffic';
import { loadPlanContext, type PlanContext } from './context';
import { createPlanDeps, type PlanDeps } from './deps';
import { rollBackAndEndPlan } from '../../lambda/shared/rollback';
import { UsageError, type CliIo } from '../io';
import { EXIT } from './exit-codes';
import type { PlanCommandOptions } from './options';

export type { PlanCommandOptions } from './options';
export type { PlanDeps } from './deps';

/** Checks the options before any AWS call; returns the bake in whole seconds (for --plan). */
function validate(opts: PlanCommandOptions): void {
  const modes = [
    opts.plan !== undefined && '--plan',
    opts.follow && '--follow',
    opts.promote && '--promote',
    opts.abort && '--abort',
    opts.retry && '--retry',
  ].filter((m): m is string => typeof m === 'string');
  if (modes.length !== 1) {
    throw new UsageError(
      modes.length === 0
        ? 'nothing to do: give --plan <steps>, --follow, --promote, --abort or --retry'
        : `choose one of ${modes.join(', ')}`,
    );
  }
  const bake = opts.bakeMs === undefined ? MIN_BAKE_SECONDS : opts.bakeMs / 1000;
  if (opts.bakeMs !== undefined && !Number.isInteger(bake)) {
    throw new UsageError(`--bake: got ${opts.bakeMs} ms, expected whole seconds`);
  }
  if (opts.plan !== undefined) {
    const problems = planProblems(opts.plan, bake, opts.pauses);
    if (problems.length > 0) throw new UsageError(problems.map((p) => `--${p}`).join('; '));
  } else if (opts.retry) {
    const problems = planProblems([100], bake);
    if (problems.length > 0) throw new UsageError(problems.map((p) => `--${p}`).join('; '));
    if (opts.force) throw new UsageError('--force applies to --plan only');
  } else {
    if (opts.bakeMs !== undefined) throw new UsageError('--bake applies to --plan and --retry only');
    if (opts.force) throw new UsageError('--force applies to --plan only');
  }
  if (opts.full && !opts.promote) throw new UsageError('--full applies to --promote only');
  if (opts.force && !opts.reason?.trim()) {
    throw new UsageError('--force needs --reason "<why>" (it is recorded in the audit)');
  }
  if (opts.dryRun && opts.follow)
    throw new UsageError('--dry-run with --follow: --follow changes nothing already');
}

/**
 * `shift --plan 10,25,50,100 --bake 15m` starts a rollout plan in the environment and follows it;
 * `--follow` re-attaches; `--promote` ends the current step's bake at the next check; `--abort` stops the
 * plan and sets 100% blue from here at once (not only through the state machine). Resolves to an exit code.
 */
export async function runPlanCommand(opts: PlanCommandOptions, io: CliIo, deps?: PlanDeps): Promise<number> {
  validate(opts);
  const d = deps ?? createPlanDeps(loadConfig(opts.envName).region);
  const ctx = await loadPlanContext(d, opts.envName);
  if (opts.plan !== undefined)
    return startPlan(opts, { steps: opts.plan, pauses: opts.pauses ?? [] }, ctx, d, io);
  if (opts.follow) return follow(opts, ctx, d, io);
  if (opts.promote) return promote(opts, ctx, d, io);
  if (opts.retry) return retry(opts, ctx, d, io);
  return abort(opts, ctx, d, io);
}

function out(opts: PlanCommandOptions, io: CliIo) {
  // With --json, stdout carries one JSON document; progress goes to stderr.
  return opts.json ? io.stderr : io.stdout;
}

async function callerArn(deps: PlanDeps): Promise<string> {
  const id = await deps.sts.send(new GetCallerIdentityCommand({}));
  return id.Arn ?? 'unknown';
}

async function confirm(opts: PlanCommandOptions, io: CliIo, question: string): Promise<boolean> {
  if (opts.envName !== 'prod' || opts.yes) return true;
  if (!io.isTTY) {
    io.stderr('refusing: prod needs confirmation; there is no terminal to ask, so pass --yes\n');
    return false;
  }
  const answer = (await io.prompt(`${question} [y/N] `)).trim().toLowerCase();
  if (answer === 'y' || answer === 'yes') return true;
  io.stderr('not confirmed: nothing changed\n');
  return false;
}

/** The exit code of a refusal, from the typed gate ids (never from the text). */
function gateExit(closed: GateResult['closed']): number {
  const gates = new Set(closed.map((c) => c.gate));
  if (gates.has('alarms') || gates.has('critical-any')) return EXIT.CRITICAL_ALARM;
  if (gates.has('green-health')) return EXIT.GREEN_UNHEALTHY;
  if (gates.has('parity')) return EXIT.PARITY_NOT_CLEAN;
  if (gates.has('evidence')) return EXIT.NO_EVIDENCE;
  return EXIT.CHECKS_NOT_CLEAN;
}

function executionName(now: number, random: string): string {
  const t = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'z')
    .toLowerCase();
  return `plan-${t}-${random}`;
}

interface PlanToStart {
  readonly steps: number[];
  readonly pauses: number[];
  /** The plan's bake when not given with --bake (a retry keeps the aborted plan's). */
  readonly bakeSeconds?: number;
  readonly reason?: string;
  readonly retryOf?: string;
}

async function startPlan(
  opts: PlanCommandOptions,
  toStart: PlanToStart,
  ctx: PlanContext,
  deps: PlanDeps,
  io: CliIo,
): Promise<number> {
  const say = out(opts, io);
  const { steps, pauses } = toStart;
  const reason = opts.reason ?? toStart.reason;
  // Without --bake: the environment's default, raised to the minimum bake if it is shorter.
  const defaultBake = toStart.bakeSeconds ?? Math.max(ctx.defaultBakeSeconds, ctx.evidence.minBakeSeconds);
  const bakeSeconds = opts.bakeMs === undefined ? defaultBake : opts.bakeMs / 1000;
  const bakeProblems = planProblems(steps, bakeSeconds, pauses);
  if (bakeProblems.length > 0) {
    io.stderr(`refusing: ${bakeProblems.join('; ')}\n`);
    return EXIT.FAILED;
  }

  // 1. One plan at a time, and not while a manual shift holds the lock.
  const active = await describeActivePlan(deps.sfn, deps.doc, ctx.tableName, ctx.stateMachineArn);
  if (active.execution) {
    io.stderr(
      `refusing: rollout plan ${active.execution.name} is already running (${describeState(active.state, deps.clock.now())}).\n` +
        `Watch it: npm run shift -- --env ${ctx.envName} --follow    Stop it: --abort\n`,
    );
    return EXIT.LOCKED;
  }
  if (active.state && ACTIVE_PLAN_STATUSES.includes(active.state.status)) {
    // The item says a plan owns traffic but no execution runs (it timed out or was stopped outside the CLI).
    io.stderr(
      `refusing: plan ${active.state.planId} is still marked ${active.state.status} but no execution runs. ` +
        `Clear it (and set 100% blue): npm run shift -- --env ${ctx.envName} --abort\n`,
    );
    return EXIT.LOCKED;
  }
  const lock = await deps.doc.send(
    new GetCommand({ TableName: ctx.tableName, Key: LOCK_KEY, ConsistentRead: true }),
  );
  const holder = lock.Item as { owner?: string; purpose?: string; expiresAt?: number } | undefined;
  if (holder && (holder.expiresAt ?? 0) > deps.clock.now() / 1000) {
    io.stderr(`refusing: the shift lock is held by ${holder.owner} for "${holder.purpose}"\n`);
    return EXIT.LOCKED;
  }

  // 2. The same gates the state machine checks before each step, so a refusal is immediate and local
  // (with green already in traffic, an alarm in INSUFFICIENT_DATA is not enough evidence to go higher).
  const from = await readListenerWeights(deps.elbv2, ctx.target);
  const composite = criticalCompositeAlarmName(ctx.envName);
  const gates = await evaluateGates(
    deps,
    {
      alarmNames: ctx.alarmNames,
      checksMaxAgeSeconds: ctx.checksMaxAgeSeconds,
      stateTableName: ctx.tableName,
      greenTargetGroupArn: ctx.target.greenTargetGroupArn,
      greenWeight: from.green,
      ...(ctx.alarmNames.includes(composite) ? { criticalCompositeName: composite } : {}),
    },
    new Date(deps.clock.now()),
  );
  // --force lifts exactly the alarms in ALARM now (the state machine's gates ignore these and only these),
  // decided from the typed problems and the alarms' states, never from a problem's text.
  const inAlarm = (g: GateProblem) =>
    (g.gate === 'alarms' || g.gate === 'critical-any') &&
    g.alarm !== undefined &&
    gates.alarmStates[g.alarm] === 'ALARM';
  const forcedAlarms = opts.force ? alarmsInAlarm(gates.alarmStates) : [];
  const blockingGates = opts.force ? gates.closed.filter((g) => !inAlarm(g)) : gates.closed;
  const blocking = blockingGates.map((g) => g.message);
  // Only alarms in ALARM close it (none missing, no other gate): --force --reason would start the plan.
  const forceWouldStart = !opts.force && gates.closed.length > 0 && gates.closed.every(inAlarm);

  const totalSeconds = steps.length * bakeSeconds;
  const ev = ctx.evidence;
  say(
    [
      `Rollout plan for ${ctx.envName}: ${formatPlan(steps, pauses)} (green), bake ${formatDuration(bakeSeconds)} per step, at least ${formatDuration(totalSeconds)} in all`,
      toStart.retryOf
        ? `Retry of ${toStart.retryOf} (from its first step; traffic is where its abort left it)`
        : '',
      `Traffic now: ${formatWeights(from)}`,
      `Alarms: ${formatAlarmStates(gates.alarmStates)}`,
      forcedAlarms.length > 0
        ? `FORCED past alarms in ALARM (recorded, reason: ${opts.reason}): ${forcedAlarms.join(', ')}`
        : '',
      'Before step 1: pre-shift snapshot of the database (waits until available).',
      `Before each step: gates (no watched alarm in ALARM, data checks clean within ${formatDuration(ctx.checksMaxAgeSeconds)}, green healthy).`,
      `During each bake: alarms checked every ${ctx.checkIntervalSeconds}s; any in ALARM rolls back to 100% blue.`,
      `Evidence before each promotion: at least ${ev.minRequestsPerStep} green requests and every watched alarm OK (not INSUFFICIENT_DATA); without it the step waits up to ${formatDuration(ev.evidenceWaitSeconds)} more, then the plan PAUSES for --promote.`,
    ]
      .filter(Boolean)
      .join('\n') + '\n',
  );
  if (blocking.length > 0) {
    io.stderr(`refusing: ${blocking.join('; ')}\n`);
    if (forceWouldStart) {
      io.stderr('(--force --reason "..." starts anyway, ignoring the alarms in ALARM now; it is recorded)\n');
    }
    if (opts.json)
      io.stdout(`${JSON.stringify({ started: false, refused: blocking, alarmStates: gates.alarmStates })}\n`);
    return gateExit(blockingGates);
  }
  if (opts.dryRun) {
    say('dry run: gates open; would start the plan. Nothing changed.\n');
    if (opts.json)
      io.stdout(`${JSON.stringify({ started: false, dryRun: true, steps, bakeSeconds, from })}\n`);
    return EXIT.OK;
  }
  if (!(await confirm(opts, io, `Start rollout plan ${formatPlan(steps)} in prod?`)))
    return EXIT.NOT_CONFIRMED;

  // 3. Start the execution: from here the environment runs the plan, whatever happens to this process.
  const actor = await callerArn(deps);
  const name = executionName(deps.clock.now(), deps.random?.() ?? randomBytes(3).toString('hex'));
  const started = await deps.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: ctx.stateMachineArn,
      name,
      input: JSON.stringify({
        request: {
          steps,
          bakeSeconds,
          actor,
          reason,
          forcedAlarms,
          ...(pauses.length > 0 ? { pauses } : {}),
          ...(toStart.retryOf ? { retryOf: toStart.retryOf } : {}),
        },
      }),
    }),
  );
  say(
    `Started ${name}. The plan runs in the environment: Ctrl-C only detaches this terminal.\n` +
      `  re-attach: npm run shift -- --env ${ctx.envName} --follow\n` +
      `  promote:   npm run shift -- --env ${ctx.envName} --promote [--full]\n` +
      `  abort:     npm run shift -- --env ${ctx.envName} --abort\n`,
  );
  return followExecution(opts, ctx, deps, io, started.executionArn ?? '', name);
}

async function follow(
  opts: PlanCommandOptions,
  ctx: PlanContext,
  deps: PlanDeps,
  io: CliIo,
): Promise<number> {
  const active = await describeActivePlan(deps.sfn, deps.doc, ctx.tableName, ctx.stateMachineArn);
  if (!active.execution?.executionArn) {
    const last = active.state;
    const text = last
      ? `No rollout plan is running. The last one, ${last.planId}, ended ${last.status}${last.cause ? ` (${last.cause})` : ''}.`
      : 'No rollout plan is running, and none has run in this environment.';
    out(opts, io)(`${text}\n`);
    if (opts.json) io.stdout(`${JSON.stringify({ running: false, last: last ?? null })}\n`);
    return EXIT.OK;
  }
  return followExecution(opts, ctx, deps, io, active.execution.executionArn, active.execution.name ?? '');
}

/** Polls the execution, the plan item and the alarms until the plan ends; prints each change. */
async function followExecution(
  opts: PlanCommandOptions,
  ctx: PlanContext,
  deps: PlanDeps,
  io: CliIo,
  executionArn: string,
  name: string,
): Promise<number> {
  const say = out(opts, io);
  const poll = deps.pollIntervalMs ?? 5000;
  let lastLine = '';
  let lastPrinted = 0;
  for (;;) {
    const [execution, state, alarms] = await Promise.all([
      deps.sfn.send(new DescribeExecutionCommand({ executionArn })),
      readPlanState(deps.doc, ctx.tableName),
      readAlarmStates(deps.cloudwatch, ctx.alarmNames),
    ]);
    const now = deps.clock.now();
    const mine = state?.planId === name ? state : undefined;
    if (execution.status !== 'RUNNING') {
      return finish(opts, io, execution.status ?? 'UNKNOWN', mine, name, execution.error, execution.cause);
    }
    if (mine?.phase === 'paused') return paused(opts, ctx, io, mine, now);
    const line = `${describeState(mine, now)} | alarms: ${formatAlarmStates(alarms)}`;
    // Print each change at once, and the countdown at most every 30 s.
    const key = line.replace(/[\dhms]+ left/, '');
    if (key !== lastLine || now - lastPrinted >= 30_000) {
      say(`${new Date(now).toISOString().slice(11, 19)}  ${line}\n`);
      lastLine = key;
      lastPrinted = now;
    }
    await deps.clock.sleep(poll);
  }
}

function finish(
  opts: PlanCommandOptions,
  io: CliIo,
  executionStatus: string,
  state: PlanState | undefined,
  name: string,
  error: string | undefined,
  cause: string | undefined,
): number {
  const planStatus = state?.status;
  let code: number;
  let text: string;
  if (executionStatus === 'SUCCEEDED') {
    code = EXIT.OK;
    text = `Plan ${name} finished: ${state ? formatWeights(state.weights) : 'done'}.`;
  } else if (planStatus === 'refused') {
    code = EXIT.FAILED;
    text = `Plan ${name} stopped before moving traffic: ${state?.cause ?? cause ?? error ?? executionStatus}.`;
  } else if (planStatus === 'rolled-back' || planStatus === 'aborted' || executionStatus === 'ABORTED') {
    code = EXIT.ROLLED_BACK;
    text = `Plan ${name} ${planStatus ?? 'stopped'}: traffic ${state ? formatWeights(state.weights) : 'rolled back'}. Cause: ${state?.cause ?? cause ?? error ?? executionStatus}.`;
  } else {
    code = EXIT.FAILED;
    text = `Plan ${name} ended ${executionStatus}${planStatus ? ` (plan ${planStatus})` : ''}: ${cause ?? error ?? 'see the execution history'}. Check traffic: npm run shift -- --env ${opts.envName} --status`;
  }
  (code === EXIT.OK ? out(opts, io) : io.stderr)(`${text}\n`);
  if (opts.json) {
    io.stdout(
      `${JSON.stringify({ planId: name, executionStatus, planStatus: planStatus ?? null, weights: state?.weights ?? null, stepIndex: state?.stepIndex ?? null, steps: state?.steps ?? null, snapshotId: state?.snapshotId ?? null, cause: state?.cause ?? cause ?? null })}\n`,
    );
  }
  return code;
}

/** The plan waits for a person: say why and what to type, exit PAUSED (the plan keeps running). */
function paused(
  opts: PlanCommandOptions,
  ctx: PlanContext,
  io: CliIo,
  state: PlanState,
  now: number,
): number {
  const why =
    state.pauseReason === 'pause-step'
      ? 'a pause step of the plan'
      : `not enough evidence (${state.evidence ?? 'see --status'})`;
  io.stderr(
    `${describeState(state, now)}: ${why}. Traffic stays ${formatWeights(state.weights)}, still watched (an alarm in ALARM rolls back).\n` +
      `  go on:     npm run shift -- --env ${ctx.envName} --promote      (all steps: --promote --full)\n` +
      `  abort:     npm run shift -- --env ${ctx.envName} --abort\n` +
      `  re-attach: npm run shift -- --env ${ctx.envName} --follow\n`,
  );
  if (opts.json)
    io.stdout(
      `${JSON.stringify({ planId: state.planId, planStatus: state.status, phase: 'paused', pauseReason: state.pauseReason ?? null, evidence: state.evidence ?? null, stepIndex: state.stepIndex, weights: state.weights })}\n`,
    );
  return EXIT.PAUSED;
}

/**
 * `--promote [--full]`: asks the running plan to end the current step's bake (not before the minimum
 * bake: green's alarms must have been able to fire) or its pause. Promoting a paused step is a person's
 * decision that stands in for missing evidence; alarms in ALARM and the other gates still apply, and are
 * re-evaluated by the plan immediately before the next increase. Audited as `plan-promote`.
 */
async function promote(
  opts: PlanCommandOptions,
  ctx: PlanContext,
  deps: PlanDeps,
  io: CliIo,
): Promise<number> {
  const state = await readPlanState(deps.doc, ctx.tableName);
  if (!state || state.status !== 'running' || (state.phase !== 'baking' && state.phase !== 'paused')) {
    io.stderr(
      `nothing to promote: ${state ? `plan ${state.planId} is ${state.status}${state.status === 'running' ? ` (${state.phase})` : ''}` : 'no rollout plan has run'}\n`,
    );
    return EXIT.FAILED;
  }
  const full = opts.full === true;
  const isPaused = state.phase === 'paused';
  const last = state.steps.length - 1;
  const step = `step ${state.stepIndex + 1}/${state.steps.length} (${formatWeights(state.weights)})`;
  const what = `${isPaused ? 'end the pause' : 'end the bake'} of ${step}${full && state.stepIndex < last ? ` and skip to the last step (green ${state.steps[last]}%)` : ''}`;
  const now = deps.clock.now();
  const minBakeEnd = Date.parse(state.bakeStartedAt ?? '') + ctx.evidence.minBakeSeconds * 1000;
  const when =
    !isPaused && Number.isFinite(minBakeEnd) && minBakeEnd > now
      ? `not before ${new Date(minBakeEnd).toISOString()} (the ${formatDuration(ctx.evidence.minBakeSeconds)} minimum bake: green's alarms need that long to be able to fire)`
      : `at the next check (within ${isPaused ? 60 : ctx.checkIntervalSeconds}s)`;
  if (opts.dryRun) {
    out(opts, io)(`dry run: would ${what} of plan ${state.planId}. Nothing changed.\n`);
    return EXIT.OK;
  }
  if (!(await confirm(opts, io, `${what[0]!.toUpperCase()}${what.slice(1)} in prod?`)))
    return EXIT.NOT_CONFIRMED;
  const actor = await callerArn(deps);
  await requestPromote(
    deps.doc,
    ctx.tableName,
    { planId: state.planId, stepIndex: state.stepIndex, full, waivesEvidence: isPaused, actor },
    new Date(now),
  );
  const problems: string[] = [];
  try {
    await recordShift(deps.doc, ctx.tableName, {
      actor,
      kind: 'plan-promote',
      from: state.weights,
      to: state.weights,
      outcome: 'applied',
      forced: false,
      reason: opts.reason,
      planId: state.planId,
      operationId: `${state.planId}#promote-${state.stepIndex + 1}${full ? '-full' : ''}`,
      detail: `${what}${isPaused ? ` (paused: ${state.pauseReason ?? 'unknown'}; the promote stands in for the evidence)` : ''}`,
      at: new Date(now).toISOString(),
    });
  } catch (err) {
    problems.push(`could not record the promote: ${errorMessage(err)}`);
  }
  out(
    opts,
    io,
  )(
    `Promoted plan ${state.planId}: it will ${what} ${when}; the gates are re-evaluated immediately before the next increase.\n`,
  );
  for (const p of problems) io.stderr(`warning: ${p}\n`);
  if (opts.json)
    io.stdout(
      `${JSON.stringify({ promoted: true, planId: state.planId, stepIndex: state.stepIndex, full, waivesEvidence: isPaused })}\n`,
    );
  return EXIT.OK;
}

/** Plan statuses `--retry` starts again: ended without success, traffic given back to blue. */
const RETRYABLE: readonly PlanState['status'][] = ['rolled-back', 'aborted', 'refused'];

/**
 * `--retry`: the last plan ended without success (rolled back, aborted, refused) and its cause is fixed:
 * start it again as a new execution with the same steps, pauses, bake and reason, FROM ITS FIRST STEP
 * (its rollback put traffic back to 100% blue, so resuming at a later step would skip the evidence of
 * the earlier ones). Everything --plan checks is checked again.
 */
async function retry(opts: PlanCommandOptions, ctx: PlanContext, deps: PlanDeps, io: CliIo): Promise<number> {
  const last = await readPlanState(deps.doc, ctx.tableName);
  if (!last || !RETRYABLE.includes(last.status)) {
    io.stderr(
      `nothing to retry: ${last ? `the last plan, ${last.planId}, is ${last.status}` : 'no rollout plan has run'}; --retry starts a plan that was rolled back, aborted or refused\n`,
    );
    return EXIT.FAILED;
  }
  out(opts, io)(`Retrying ${last.planId} (${last.status}: ${last.cause ?? 'no cause recorded'}).\n`);
  return startPlan(
    opts,
    {
      steps: [...last.steps],
      pauses: [...(last.pauses ?? [])],
      bakeSeconds: last.bakeSeconds,
      reason: last.reason,
      retryOf: last.planId,
    },
    ctx,
    deps,
    io,
  );
}

/**
 * The emergency brake: no confirmation (like --rollback). Marks the plan aborting (so a step in flight
 * puts blue back itself), stops the execution, sets 100% blue from here, records and announces it.
 */
async function abort(opts: PlanCommandOptions, ctx: PlanContext, deps: PlanDeps, io: CliIo): Promise<number> {
  const say = out(opts, io);
  const active = await describeActivePlan(deps.sfn, deps.doc, ctx.tableName, ctx.stateMachineArn);
  const planActive = active.state !== undefined && ACTIVE_PLAN_STATUSES.includes(active.state.status);
  if (!active.execution && !planActive) {
    say(
      `No rollout plan is running in ${ctx.envName}; traffic untouched. For 100% blue anyway: npm run shift -- --env ${ctx.envName} --rollback\n`,
    );
    if (opts.json) io.stdout(`${JSON.stringify({ aborted: false, running: false })}\n`);
    return EXIT.OK;
  }
  const planId = active.state?.planId ?? active.execution?.name ?? 'unknown';
  if (opts.dryRun) {
    say(`dry run: would stop plan ${planId} and set ${formatWeights(ALL_BLUE)}. Nothing changed.\n`);
    return EXIT.OK;
  }
  const actor = await callerArn(deps);
  const cause = `aborted by ${actor}${opts.reason ? `: ${opts.reason}` : ''}`;
  const now = () => new Date(deps.clock.now());

  const result = await rollBackAndEndPlan(deps, {
    target: ctx.target,
    stateMachineArn: ctx.stateMachineArn,
    writer: actor,
    cause,
    operationId: `abort#${planId}#${now().toISOString()}`,
    planStatus: 'aborted',
    now,
  });
  const { from, after, stoppedExecutions: stopped } = result;
  const problems = [...result.problems];
  const fmt = (w: typeof from) => (w ? formatWeights(w) : 'unknown');
  say(`Plan ${planId} stopped (${stopped.length} execution(s)). Traffic: ${fmt(from)} -> ${fmt(after)}\n`);
  if (!result.written) {
    io.stderr(
      `error: the plan is ended, but 100% blue could not be written everywhere (${errorMessage(result.trafficError)}); the listener applies ${fmt(after)}. Run again: npm run shift -- --env ${ctx.envName} --rollback\n`,
    );
  }
  const steps = active.state?.steps ?? [];
  try {
    await recordShift(deps.doc, ctx.tableName, {
      actor,
      kind: 'plan-abort',
      from: from ?? after ?? ALL_BLUE,
      to: after ?? ALL_BLUE,
      outcome: result.written ? 'rolled-back' : 'failed',
      forced: false,
      reason: opts.reason,
      planId,
      detail: `aborted from the CLI at step ${(active.state?.stepIndex ?? -1) + 1}/${steps.length}`,
      at: now().toISOString(),
    });
  } catch (err) {
    problems.push(`could not record the abort: ${errorMessage(err)}`);
  }
  try {
    await deps.sns.send(
      new PublishCommand({
        TopicArn: ctx.warningTopicArn,
        Subject: `${resourcePrefix(ctx.envName)}: rollout plan aborted, ${fmt(after)}`.slice(0, 100),
        Message: `Rollout plan ${planId} (${formatPlan(steps)}) was ${cause}. Traffic: ${fmt(from)} -> ${fmt(after)}.`,
      }),
    );
  } catch (err) {
    problems.push(`could not announce the abort: ${errorMessage(err)}`);
  }
  for (const p of problems) io.stderr(`warning: ${p}\n`);
  if (opts.json) {
    io.stdout(
      `${JSON.stringify({ aborted: true, planId, stoppedExecutions: stopped, from, to: after, problems })}\n`,
    );
  }
  return result.written ? EXIT.OK : EXIT.APPLY_FAILED;
}

function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}

function formatAlarmStates(states: Record<string, string>): string {
  const entries = Object.entries(states);
  const bad = entries.filter(([, s]) => s !== 'OK');
  if (bad.length === 0) return `all ${entries.length} OK`;
  return bad.map(([n, s]) => `${n} ${s}`).join(', ');
}

/** One line: where the plan is. */
function describeState(state: PlanState | undefined, now: number): string {
  if (!state) return 'starting';
  const of = `${state.stepIndex + 1}/${state.steps.length}`;
  switch (state.phase) {
    case 'starting':
      return 'starting';
    case 'snapshot':
      return `taking the pre-shift snapshot${state.snapshotId ? ` ${state.snapshotId}` : ''}`;
    case 'gates':
      return state.stepIndex < 0 ? 'checking the gates before the snapshot' : `gates before step ${of}`;
    case 'applying':
      return `applying step ${of} (green ${state.steps[state.stepIndex] ?? '?'}%)`;
    case 'baking': {
      const left = Math.max(0, Math.round((Date.parse(state.bakeUntil ?? '') - now) / 1000));
      const promoted = state.promoteStep === state.stepIndex ? ', promoted' : '';
      if (left === 0 && state.evidence)
        return `step ${of}: ${formatWeights(state.weights)}, bake over, waiting for evidence (${state.evidence})${promoted}`;
      return `step ${of}: ${formatWeights(state.weights)}, baking, ${formatDuration(left)} left${promoted}`;
    }
    case 'paused': {
      const since = Math.max(0, Math.round((now - Date.parse(state.pausedAt ?? '')) / 1000));
      const why = state.pauseReason === 'pause-step' ? 'pause step' : 'not enough evidence';
      return `step ${of}: ${formatWeights(state.weights)}, PAUSED (${why}) for ${formatDuration(Number.isFinite(since) ? since : 0)}, waiting for --promote`;
    }
    case 'done':
      return `${state.status}`;
  }
}
