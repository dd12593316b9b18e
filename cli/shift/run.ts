import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { DescribeServicesCommand, type Service } from '@aws-sdk/client-ecs';
import { DescribeDBSnapshotsCommand } from '@aws-sdk/client-rds';
import { PublishCommand } from '@aws-sdk/client-sns';
import { loadConfig } from '../../lib/config';
import { describeFailure, formatFailure } from '../errors';
import type { CliIo } from '../io';
import { randomUUID } from 'node:crypto';
import {
  ALL_BLUE,
  applyWeights,
  formatWeights,
  inspectTraffic,
  InvalidWeightsError,
  readListenerWeights,
  readWeightsIntent,
  UnexpectedListenerError,
  WriteFencedError,
  type Weights,
} from '../../lambda/shared/traffic';
import {
  acquireLease,
  LeaseLostError,
  LockHeldError,
  readLease,
  renewLease,
  type Lease,
  recentShifts,
  recordShift,
  releaseShiftLock,
  type ShiftKind,
  type ShiftOutcome,
  type ShiftRecord,
} from '../../lambda/shared/shift-audit';
import { checksMaxAgeMinutes } from '../../lambda/shared/checks-summary';
import { ACTIVE_PLAN_STATUSES, describeActivePlan } from '../../lambda/shared/rollout-control';
import { rollBackAndEndPlan } from '../../lambda/shared/rollback';
import { loadShiftContext, type ShiftContext } from './context';
import { InterruptedError, type ShiftDeps } from './deps';
import { EXIT, exitCodeForFailure, type ExitCode } from './exit-codes';
import { describePlanWait } from './plan-wait';
import {
  AUTO_ROLLBACK_PARAMETER,
  judgeArming,
  type DeployedPolicy,
} from '../../lambda/shared/auto-rollback-policy';
import type { ShiftOptions } from './options';
import { readAlarmStates } from '../../lambda/rollout/gates';
import { readBakeSignals } from '../../lambda/rollout/bake-signals';
import { DEPLOYMENT_KEYS, parseAlarmName } from '../../lib/project';
import {
  checksVerdict,
  environmentAlarms,
  formatDuration,
  leaseGate,
  peekLock,
  preflight,
  watchedAlarmNames,
  targetHealth,
  type PreflightReport,
  type Refusal,
} from './preflight';

type Mode<M extends ShiftOptions['mode']> = Extract<ShiftOptions, { mode: M }>;

/** Text for people on stdout; with --json, text goes to stderr and one JSON object to stdout at the end. */
class Output {
  readonly result: Record<string, unknown> = {};
  constructor(
    private readonly io: CliIo,
    private readonly json: boolean,
  ) {}
  line(text = ''): void {
    (this.json ? this.io.stderr : this.io.stdout)(`${text}\n`);
  }
  error(text: string): void {
    this.io.stderr(`${text}\n`);
  }
  finish(code: number): number {
    if (this.json) this.io.stdout(`${JSON.stringify({ ...this.result, exitCode: code }, null, 2)}\n`);
    return code;
  }
}

/** Runs a parsed `shift` command (not the plan modes) against the given clients. */
export async function runShift(opts: ShiftOptions, io: CliIo, deps: ShiftDeps): Promise<number> {
  const out = new Output(io, opts.json);
  out.result.command = opts.mode;
  out.result.env = opts.envName;
  // No terminal and no --yes: refuse before touching AWS (nobody can answer the prod question).
  if (opts.mode === 'shift' && needsConfirmation(opts) && !io.isTTY) {
    out.error(
      `refusing to change ${opts.envName} traffic without confirmation: no terminal to ask on. Pass --yes to confirm non-interactively.`,
    );
    out.result.outcome = 'not-confirmed';
    return out.finish(EXIT.NOT_CONFIRMED);
  }
  try {
    const config = loadConfig(opts.envName);
    const identity = await deps.sts.send(new GetCallerIdentityCommand({}));
    const actor = identity.Arn ?? 'unknown';
    if (identity.Account !== config.account) {
      out.error(
        `credentials are for account ${identity.Account ?? '?'} (${actor}), but ${opts.envName} is account ${config.account}: switch credentials (aws sso login / AWS_PROFILE)`,
      );
      return out.finish(EXIT.WRONG_ACCOUNT);
    }
    const ctx = await loadShiftContext(deps, opts.envName);
    out.result.actor = actor;
    switch (opts.mode) {
      case 'rollback':
        return out.finish(await rollback(opts, ctx, deps, out, actor));
      case 'status':
        return out.finish(await status(ctx, deps, out, config.checks.scheduleMinutes));
      case 'shift':
        return out.finish(await shift(opts, io, ctx, deps, out, actor, config.checks.scheduleMinutes));
      default:
        throw new Error(`mode ${opts.mode} is not handled here`);
    }
  } catch (err) {
    if (err instanceof InvalidWeightsError || err instanceof UnexpectedListenerError) {
      out.error(`refused: ${err.message}`);
      out.result.problems = err.problems;
      out.result.outcome = 'refused';
      return out.finish(EXIT.INVALID_WEIGHTS);
    }
    // Everything else through the one error formatter (cli/errors.ts): one message, a hint, no stack.
    const failure = describeFailure(err, { envName: opts.envName });
    out.error(formatFailure(failure).trimEnd());
    Object.assign(out.result, { error: failure.message, failure: failure.kind });
    return out.finish(exitCodeForFailure(failure.kind));
  }
}

function needsConfirmation(opts: Mode<'shift'>): boolean {
  return opts.envName === 'prod' && !opts.yes && !opts.dryRun;
}

/** The checks' allowed age, in ms (the same policy as the rollout's gate). */
function checksMaxAgeMs(scheduleMinutes: number): number {
  return checksMaxAgeMinutes(scheduleMinutes) * 60_000;
}

async function shift(
  opts: Mode<'shift'>,
  io: CliIo,
  ctx: ShiftContext,
  deps: ShiftDeps,
  out: Output,
  actor: string,
  scheduleMinutes: number,
): Promise<ExitCode> {
  const started = deps.clock.now();
  const to = opts.target;
  const [intent, from] = await Promise.all([
    readWeightsIntent(deps.doc, ctx.tableName),
    readListenerWeights(deps.elbv2, ctx.target),
  ]);
  const stored = intent?.weights ?? from;
  const bakeMs = to.green === 0 ? 0 : (opts.bakeMs ?? ctx.defaultBakeMs);
  Object.assign(out.result, {
    from,
    to,
    dryRun: opts.dryRun,
    forced: opts.force,
    reason: opts.reason,
    bakeMs,
  });

  out.line(
    `shift ${ctx.envName}: ${formatWeights(from)} -> ${formatWeights(to)}${opts.dryRun ? '  (dry run)' : ''}`,
  );
  out.line(`  as ${actor}`);
  if (stored.blue !== from.blue) {
    out.line(
      `  note: the record of intent says ${formatWeights(stored)} (${intent?.operationId ?? '?'} by ${intent?.writer ?? '?'}) but the listener rule applies ${formatWeights(from)} (a write that failed half way, or a change outside this tool); this shift rewrites both`,
    );
  }
  if (from.blue === to.blue && stored.blue === to.blue) {
    out.line(`nothing to do: ${ctx.envName} already routes ${formatWeights(to)}`);
    out.result.outcome = 'unchanged';
    return EXIT.OK;
  }

  const snapshotFirst = ctx.preShiftSnapshot === 'always' || (from.green === 0 && to.green > 0);
  const owner = `${actor} (${deps.host} pid ${deps.pid})`;
  const operationId = `shift#${randomUUID()}`;
  let lease: Lease | undefined;
  try {
    // 1. The lease first, so two operators cannot pass preflight together. A lease its holder stopped
    //    renewing is taken over after one TTL of our own waiting (never by comparing clocks).
    out.line('preflight');
    if (opts.dryRun) {
      const holder = await peekLock(deps, ctx.tableName);
      if (holder)
        return refuse(out, [
          { code: EXIT.LOCKED, gate: 'lease', message: new LockHeldError(holder).message },
        ]);
      out.line('  ok    lock: free');
    } else {
      try {
        lease = await acquireLease(
          deps.doc,
          ctx.tableName,
          owner,
          `shift to ${formatWeights(to)}`,
          CLI_LEASE_SECONDS,
          () => new Date(deps.clock.now()),
          { takeOver: { sleep: (ms) => deps.clock.sleep(ms) } },
        );
        out.line(
          `  ok    lease: acquired (${formatDuration(CLI_LEASE_SECONDS * 1000)}, renewed while this command waits)`,
        );
      } catch (err) {
        if (err instanceof LockHeldError) {
          return refuse(out, [{ code: EXIT.LOCKED, gate: 'lease', message: err.message }]);
        }
        throw err;
      }
    }
    const held = lease;
    const renewer = held ? new LeaseRenewer(deps, ctx.tableName, held) : undefined;

    // 2. Alarms, green's targets, data checks.
    const report = await preflight(deps, ctx, {
      targetGreen: to.green,
      currentGreen: from.green,
      force: opts.force,
      checksMaxAgeMs: checksMaxAgeMs(scheduleMinutes),
    });
    printPreflight(out, report, opts);
    const states = recordedAlarmStates(report, ctx);
    out.result.alarmStates = states;
    /** Refusals are audited too (traffic unchanged), so `--status` shows who tried what and why not. */
    const recordRefusal = (why: string) =>
      recordShift(deps.doc, ctx.tableName, {
        actor,
        kind: 'shift',
        from,
        to,
        outcome: 'refused',
        forced: opts.force,
        reason: opts.reason,
        alarmStates: states,
        detail: `wanted ${formatWeights(to)}; ${why}`,
        at: new Date(deps.clock.now()).toISOString(),
      });
    if (report.refusals.length > 0) {
      if (!opts.dryRun) {
        await recordRefusal(`${report.refusals.map((r) => r.message).join(' | ')}`);
      }
      return refuse(out, report.refusals);
    }

    // 3. What will happen.
    out.line('plan');
    out.line(
      snapshotFirst
        ? `  snapshot ${ctx.instanceIdentifier} first (pre-shift: ${ctx.preShiftSnapshot}), wait up to ${formatDuration(ctx.snapshotTimeoutMs)}`
        : `  no snapshot (green is already above 0%; policy ${ctx.preShiftSnapshot})`,
    );
    out.line(
      `  set ${formatWeights(to)} in the record of intent (under the lease), then on the weighted listener rule`,
    );
    out.line(
      bakeMs > 0
        ? `  bake ${formatDuration(bakeMs)} watching ${ctx.greenAlarmNames.length} green alarm(s) and green's targets; back to 100% blue if one fails`
        : '  no bake',
    );
    out.line(`  record in the audit and announce on the warning topic`);
    if (opts.dryRun) {
      out.line('dry run: nothing changed');
      out.result.outcome = 'dry-run';
      return EXIT.OK;
    }

    // 4. Confirmation (prod).
    const prompted = needsConfirmation(opts);
    if (prompted) {
      const answer = await renewer!.during(() =>
        io.prompt(
          `Move ${ctx.envName} traffic to ${formatWeights(to)}${opts.force ? ' (FORCED past alarms)' : ''}? Type "${ctx.envName}" to confirm: `,
        ),
      );
      if (answer.trim() !== ctx.envName) {
        out.line('not confirmed: nothing changed');
        out.result.outcome = 'not-confirmed';
        return EXIT.NOT_CONFIRMED;
      }
    }

    // The gates again whenever time has passed since the preflight and green is about to rise: the same
    // evaluation, the lease renewed under its fence as one of them, the alarms forced past at the
    // preflight (and only those) still forced past. Closed: refused and audited; the lease is released
    // (finally) and traffic is unchanged.
    const recheck = async (moment: string): Promise<ExitCode | undefined> => {
      if (to.green <= from.green) return undefined;
      const again = await preflight(deps, ctx, {
        targetGreen: to.green,
        currentGreen: from.green,
        force: opts.force,
        forcedAlarms: report.blockingAlarms.map((a) => a.name),
        checksMaxAgeMs: checksMaxAgeMs(scheduleMinutes),
        lease: leaseGate(() => renewer!.renewNow()),
      });
      if (again.refusals.length > 0) {
        out.line(`gates re-checked ${moment}: closed`);
        await recordRefusal(`gates closed ${moment}: ${again.refusals.map((r) => r.message).join(' | ')}`);
        return refuse(out, again.refusals);
      }
      out.line(`  ok    gates re-checked ${moment}`);
      return undefined;
    };
    if (prompted) {
      const refused = await recheck('after the confirmation');
      if (refused !== undefined) return refused;
    }

    // 5. Snapshot.
    let snapshotId: string | undefined;
    if (snapshotFirst) {
      out.line(`snapshot of ${ctx.instanceIdentifier}`);
      try {
        let lastPrinted = -Infinity;
        const snap = await deps.takeSnapshot(deps.rds, {
          envName: ctx.envName,
          instanceIdentifier: ctx.instanceIdentifier,
          reason: 'pre-shift',
          clock: renewer!.clock,
          now: new Date(deps.clock.now()),
          wait: {
            timeoutMs: ctx.snapshotTimeoutMs,
            pollIntervalMs: deps.pollIntervalMs,
            onProgress: (st, elapsedMs, pct) => {
              if (st === 'available' || elapsedMs - lastPrinted >= 60_000) {
                lastPrinted = elapsedMs;
                out.line(
                  `  ${formatDuration(elapsedMs).padStart(7)}  ${st}${pct === undefined ? '' : ` ${pct}%`}`,
                );
              }
            },
          },
        });
        snapshotId = snap.snapshotId;
        out.line(`  ok    ${snap.snapshotId} ${snap.status} after ${formatDuration(snap.elapsedMs)}`);
        out.result.snapshot = snap;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (err instanceof LeaseLostError) {
          out.error(`refused: ${err.message}`);
          out.result.outcome = 'refused';
          return EXIT.LOCKED;
        }
        if (err instanceof InterruptedError) {
          out.error(
            `interrupted while waiting for the snapshot: traffic unchanged (the snapshot may still be creating: npm run shift -- --env ${ctx.envName} --status)`,
          );
          out.result.outcome = 'interrupted';
          return EXIT.INTERRUPTED;
        }
        out.error(`refused: pre-shift snapshot failed, traffic unchanged: ${message}`);
        await recordRefusal(`pre-shift snapshot failed: ${message}`);
        out.result.outcome = 'refused';
        out.result.refusals = [{ code: EXIT.SNAPSHOT_FAILED, gate: 'snapshot', message }];
        return EXIT.SNAPSHOT_FAILED;
      }
    }

    // 6. The gates again, right before the change (the snapshot took time).
    const refused = await recheck('right before the change');
    if (refused !== undefined) return refused;

    // 7. Apply and read back.
    const applyStarted = deps.clock.now();
    let after: Weights;
    try {
      after = await applyWeights(deps, ctx.target, to, {
        operationId,
        writer: owner,
        leaseId: held?.leaseId,
        now: new Date(deps.clock.now()),
      });
    } catch (err) {
      if (err instanceof WriteFencedError || err instanceof UnexpectedListenerError) {
        out.error(`refused: ${err.message}`);
        out.result.outcome = 'refused';
        return err instanceof WriteFencedError ? EXIT.LOCKED : EXIT.INVALID_WEIGHTS;
      }
      out.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      out.result.outcome = 'failed';
      await tryRecord(deps, ctx, out, {
        actor,
        kind: 'shift',
        from,
        to,
        outcome: 'failed',
        forced: opts.force,
        reason: opts.reason,
        snapshotId,
        alarmStates: states,
        detail: err instanceof Error ? err.message : String(err),
      });
      return EXIT.APPLY_FAILED;
    }
    out.line(
      `applied: ${formatWeights(from)} -> ${formatWeights(after)} (listener read back, ${formatDuration(deps.clock.now() - applyStarted)})`,
    );
    out.result.after = after;
    // The audit and the announcement must not stop the bake: traffic has moved, green must be watched.
    const record = await tryRecord(deps, ctx, out, {
      actor,
      kind: 'shift',
      from,
      to: after,
      outcome: 'applied',
      forced: opts.force,
      reason: opts.reason,
      snapshotId,
      alarmStates: states,
      detail: report.forcedPast.length > 0 ? `forced past: ${report.forcedPast.join(', ')}` : undefined,
    });
    if (record) await announce(deps, ctx, out, record);

    // 8. Bake.
    if (bakeMs > 0) {
      let fired: string[];
      let changedTo: Weights | undefined;
      try {
        ({ fired, changedTo } = await bake(
          { ...deps, clock: renewer!.clock },
          ctx,
          out,
          after,
          bakeMs,
          report.forcedPast,
          io.isTTY && !opts.json,
        ));
      } catch (err) {
        if (err instanceof LeaseLostError) {
          out.error(
            `${err.message}. ${ctx.envName} stays at ${formatWeights(after)}; another writer now holds the lease (see --status). Roll back with: npm run shift -- --env ${ctx.envName} --rollback`,
          );
          out.result.outcome = 'lease-lost';
          return EXIT.LOCKED;
        }
        if (!(err instanceof InterruptedError)) throw err;
        out.error(
          `interrupted during the bake: ${ctx.envName} stays at ${formatWeights(after)} and nobody is watching green's alarms from here. Roll back with: npm run shift -- --env ${ctx.envName} --rollback`,
        );
        out.result.outcome = 'interrupted';
        return EXIT.INTERRUPTED;
      }
      if (changedTo) {
        // Someone else (a --rollback, the auto-rollback function, a rollout) moved traffic: theirs wins.
        out.line(
          `the listener now applies ${formatWeights(changedTo)}: traffic was changed by someone else during the bake (see --status); stopped watching`,
        );
        Object.assign(out.result, { outcome: 'superseded', changedTo });
        return changedTo.green < after.green ? EXIT.ROLLED_BACK : EXIT.OK;
      }
      if (fired.length > 0) {
        out.line(`green failed during the bake: ${fired.join(', ')}; rolling back to 100% blue`);
        let rolledTo: Weights;
        try {
          rolledTo = await applyWeights(deps, ctx.target, ALL_BLUE, {
            operationId: `${operationId}#bake-rollback`,
            writer: owner,
            now: new Date(deps.clock.now()),
          });
        } catch (err) {
          out.error(
            `AUTOMATIC ROLLBACK FAILED: ${err instanceof Error ? err.message : String(err)}. Roll back now: npm run shift -- --env ${ctx.envName} --rollback`,
          );
          Object.assign(out.result, { outcome: 'rollback-failed', firedAlarms: fired });
          return EXIT.APPLY_FAILED;
        }
        out.line(`rolled back: ${formatWeights(after)} -> ${formatWeights(rolledTo)}`);
        const rb = await tryRecord(deps, ctx, out, {
          actor,
          kind: 'auto-rollback',
          from: after,
          to: rolledTo,
          outcome: 'rolled-back',
          forced: false,
          reason: `bake: ${fired.join(', ')}`,
          snapshotId,
          alarmStates: await readAlarmStates(deps.cloudwatch, ctx.greenAlarmNames),
          detail: `shift ${record?.id ?? '(not recorded)'} rolled back during its bake`,
        });
        if (rb) await announce(deps, ctx, out, rb);
        Object.assign(out.result, {
          outcome: 'rolled-back',
          rolledBackTo: rolledTo,
          firedAlarms: fired,
          rollbackAuditId: rb?.id,
        });
        return EXIT.ROLLED_BACK;
      }
      out.line(
        `bake complete: green's alarms stayed OK and its targets healthy for ${formatDuration(bakeMs)}`,
      );
    }
    out.line(
      `done in ${formatDuration(deps.clock.now() - started)}: ${ctx.envName} routes ${formatWeights(after)}`,
    );
    out.result.outcome = 'applied';
    return EXIT.OK;
  } finally {
    if (lease) {
      await releaseShiftLock(deps.doc, ctx.tableName, owner, lease.leaseId).catch((err: unknown) =>
        out.error(
          `warning: could not release the lease (it expires by itself in ${CLI_LEASE_SECONDS}s): ${errorText(err)}`,
        ),
      );
    }
  }
}

/** TTL of the CLI's lease: short; renewed at every wait (bake and snapshot polls) and during the prompt. */
export const CLI_LEASE_SECONDS = 120;

/**
 * Keeps the lease alive while the command waits: `clock` renews after each sleep that crosses a third
 * of the TTL (bake and snapshot polls); `during` renews on a timer around a wait without sleeps (the
 * prompt). A renewal that finds the lease gone throws LeaseLostError at the next sleep.
 */
class LeaseRenewer {
  private lastRenewal: number;
  private lost: LeaseLostError | undefined;
  readonly clock: ShiftDeps['clock'];

  constructor(
    private readonly deps: ShiftDeps,
    private readonly tableName: string,
    private readonly lease: Lease,
  ) {
    this.lastRenewal = deps.clock.now();
    this.clock = {
      now: () => deps.clock.now(),
      sleep: async (ms: number) => {
        await deps.clock.sleep(ms);
        if (deps.clock.now() - this.lastRenewal >= (lease.ttlSeconds * 1000) / 3) await this.renewNow();
      },
    };
  }

  async renewNow(): Promise<void> {
    if (this.lost) throw this.lost;
    for (let attempt = 1; ; attempt++) {
      try {
        await renewLease(this.deps.doc, this.tableName, this.lease, new Date(this.deps.clock.now()));
        this.lastRenewal = this.deps.clock.now();
        return;
      } catch (err) {
        if (err instanceof LeaseLostError) this.lost = err;
        // A throttled renewal is not a lost lease: try again (the TTL leaves room for it).
        if (err instanceof LeaseLostError || attempt >= 3) throw err;
      }
    }
  }

  async during<T>(wait: () => Promise<T>): Promise<T> {
    const timer = setInterval(
      () => void this.renewNow().catch(() => undefined),
      (this.lease.ttlSeconds * 1000) / 3,
    );
    timer.unref?.();
    try {
      return await wait();
    } finally {
      clearInterval(timer);
    }
  }
}

function refuse(out: Output, refusals: readonly Refusal[]): ExitCode {
  for (const r of refusals) out.error(`refused (${r.gate}, exit ${r.code}): ${r.message}`);
  out.result.outcome = 'refused';
  out.result.refusals = refusals;
  return (refusals[0]?.code ?? EXIT.FAILED) as ExitCode;
}

/** The preflight as the operator reads it: one line per gate, from the one gate evaluation. */
function printPreflight(out: Output, r: PreflightReport, opts: Mode<'shift'>): void {
  const critical = r.alarms.filter((a) => a.critical);
  const missing = Object.entries(r.gates.alarmStates).filter(([, s]) => s === 'MISSING');
  if (r.blockingAlarms.length === 0 && missing.length === 0) {
    out.line(`  ok    alarms: no critical or green alarm in ALARM (${critical.length} critical checked)`);
  } else if (r.blockingAlarms.length > 0) {
    const names = r.blockingAlarms.map((a) => a.name).join(', ');
    out.line(
      opts.force
        ? `  FORCE alarms in ALARM, overridden ("${opts.reason ?? ''}"): ${names}`
        : `  FAIL  alarms in ALARM: ${names}`,
    );
  }
  for (const [name] of missing) out.line(`  FAIL  alarm ${name} does not exist`);
  if (r.green) {
    out.line(
      `  ${r.green.healthy > 0 ? 'ok  ' : 'FAIL'}  green targets: ${r.green.healthy} of ${r.green.total} healthy`,
    );
  } else {
    out.line('  ok    green targets: not needed (green goes to 0%)');
  }
  const checks = r.gates.closed.filter((c) => c.gate === 'data-checks');
  if (checks.length === 0)
    out.line(`  ok    ${r.checks.ok ? r.checks.message : 'data checks: clean and recent'}`);
  for (const c of checks) out.line(`  FAIL  ${c.message}`);
}

function recordedAlarmStates(r: PreflightReport, ctx: ShiftContext): Record<string, string> {
  const keep = new Set([...ctx.greenAlarmNames, ...ctx.blueAlarmNames]);
  const states: Record<string, string> = {};
  for (const a of r.alarms)
    if (keep.has(a.name) || (a.critical && a.state === 'ALARM')) states[a.name] = a.state;
  return states;
}

/** Watches green's alarms until `bakeMs` has passed; returns the alarms that fired (empty: bake passed). */
async function bake(
  deps: ShiftDeps,
  ctx: ShiftContext,
  out: Output,
  expected: Weights,
  bakeMs: number,
  ignored: readonly string[],
  tty: boolean,
): Promise<{ fired: string[]; changedTo?: Weights }> {
  // The same signals as the plan's bake-check task (lambda/rollout/bake-signals.ts): the critical
  // composite and green's alarms, green's target health, the data checks; the lease is renewed under its
  // fence after every sleep (deps.clock is the renewer's). Alarms need minutes of data; a green whose
  // tasks all died fails its share of requests with ELB 503s (counted by no target-group metric) at once,
  // so its target health is checked directly too. An alarm forced past is not watched (a forced critical
  // alarm keeps the composite in ALARM, so the composite is then forced past as well).
  const watched = [
    ...(ctx.criticalCompositeName ? [ctx.criticalCompositeName] : []),
    ...ctx.greenAlarmNames,
  ].filter((n) => !ignored.includes(n));
  const notWatched = ignored.filter((n) => !watched.includes(n));
  out.line(
    `bake ${formatDuration(bakeMs)}: watching ${watched.join(', ')}, green's target health and the data checks${notWatched.length > 0 ? ` (forced past, not watched: ${notWatched.join(', ')})` : ''}`,
  );
  const start = deps.clock.now();
  let lastLine = -Infinity;
  for (;;) {
    const [signals, now] = await Promise.all([
      readBakeSignals(deps, {
        alarmNames: watched,
        criticalCompositeName: ctx.criticalCompositeName,
        greenTargetGroupArn: ctx.target.greenTargetGroupArn,
        stateTableName: ctx.tableName,
      }),
      readListenerWeights(deps.elbv2, ctx.target),
    ]);
    const { alarmStates: states, health } = signals;
    if (now.blue !== expected.blue) return { fired: [], changedTo: now };
    // Alarms by name; the other signals by what failed.
    const fired = [
      ...signals.firing,
      ...signals.failed.filter((f) => f.gate !== 'alarms' && f.gate !== 'critical-any').map((f) => f.message),
    ];
    if (fired.length > 0) return { fired };
    const elapsed = deps.clock.now() - start;
    if (elapsed >= bakeMs) return { fired: [] };
    if (tty || elapsed - lastLine >= 60_000) {
      lastLine = elapsed;
      const notOk = watched.filter((n) => states[n] !== 'OK').map((n) => `${n} ${states[n]}`);
      out.line(
        `  ${formatDuration(elapsed).padStart(7)} / ${formatDuration(bakeMs)}  green alarms ${notOk.length === 0 ? 'OK' : `not ALARM (${notOk.join(', ')})`}, ${health.healthy}/${health.total} targets healthy, ${formatDuration(bakeMs - elapsed)} left`,
      );
    }
    await deps.clock.sleep(Math.min(deps.pollIntervalMs, bakeMs - elapsed));
  }
}

async function rollback(
  opts: Mode<'rollback'>,
  ctx: ShiftContext,
  deps: ShiftDeps,
  out: Output,
  actor: string,
): Promise<ExitCode> {
  const started = deps.clock.now();
  // What was applied before, for the record; the rollback goes ahead even if the listener looks odd.
  let from: Weights | undefined;
  try {
    from = await readListenerWeights(deps.elbv2, ctx.target);
  } catch (err) {
    out.line(
      `note: could not read the current weights (${err instanceof Error ? err.message : String(err)}); rolling back anyway`,
    );
  }
  if (opts.dryRun) {
    out.line(
      `rollback ${ctx.envName}: ${from ? formatWeights(from) : '?'} -> ${formatWeights(ALL_BLUE)}  (dry run: nothing changed)`,
    );
    Object.assign(out.result, { from, to: ALL_BLUE, outcome: 'dry-run' });
    return EXIT.OK;
  }
  // One rollback path (lambda/shared/rollback.ts): it ends a running plan cleanly (mark, stop, close the
  // item, release its lease) and writes 100% blue to everything, whatever it reads; each step is
  // attempted whatever the others did, so the printed command converges when run again.
  const stateMachineArn = ctx.deployment.has(DEPLOYMENT_KEYS.stateMachineArn)
    ? ctx.deployment.get(DEPLOYMENT_KEYS.stateMachineArn)
    : undefined;
  const cause = `manual rollback by ${actor}${opts.reason ? `: ${opts.reason}` : ''}`;
  const result = await rollBackAndEndPlan(deps, {
    target: ctx.target,
    stateMachineArn,
    writer: actor,
    cause,
    operationId: `rollback#${randomUUID()}`,
    planStatus: 'aborted',
    now: () => new Date(deps.clock.now()),
  });
  for (const arn of result.stoppedExecutions) out.line(`stopped rollout plan ${arn.split(':').pop()}`);
  if (result.stoppedExecutions.length > 0) out.result.stoppedPlans = result.stoppedExecutions;
  if (result.plan) out.line(`ended plan ${result.plan.planId} (item closed, its lease released)`);
  for (const p of result.problems) out.error(`warning: ${p}`);
  if (!result.written) {
    const where = result.after
      ? `the listener applies ${formatWeights(result.after)}`
      : 'the listener could not be read';
    out.error(
      `error: rollback failed: ${errorText(result.trafficError)}; ${where}. Run it again (it converges): npm run shift -- --env ${ctx.envName} --rollback`,
    );
    Object.assign(out.result, { outcome: 'failed', after: result.after, problems: result.problems });
    return EXIT.APPLY_FAILED;
  }
  const after = ALL_BLUE;
  const took = deps.clock.now() - started;
  out.line(
    `rollback ${ctx.envName}: ${from ? formatWeights(from) : '?'} -> ${formatWeights(after)} (listener read back, ${formatDuration(took)})`,
  );
  Object.assign(out.result, { from, to: after, outcome: 'applied', tookMs: took });
  const record = await tryRecord(deps, ctx, out, {
    actor,
    kind: 'rollback',
    from: from ?? after,
    to: after,
    outcome: 'applied',
    forced: false,
    reason: opts.reason,
  });
  if (record) await announce(deps, ctx, out, record);
  if (result.problems.length > 0) {
    out.error(
      `traffic is 100% blue, but the plan was not ended cleanly (above); run it again (it converges): npm run shift -- --env ${ctx.envName} --rollback`,
    );
    return EXIT.APPLY_FAILED;
  }
  return EXIT.OK;
}

async function readLeaseItem(deps: ShiftDeps, tableName: string) {
  return readLease(deps.doc, tableName);
}

/** Records without letting an audit failure hide that traffic already moved. */
async function tryRecord(
  deps: ShiftDeps,
  ctx: ShiftContext,
  out: Output,
  entry: Omit<ShiftRecord, 'id' | 'at'>,
): Promise<ShiftRecord | undefined> {
  try {
    const record = await recordShift(deps.doc, ctx.tableName, {
      ...entry,
      at: new Date(deps.clock.now()).toISOString(),
    });
    out.line(`recorded: audit ${record.id}`);
    out.result.auditId = record.id;
    return record;
  } catch (err) {
    out.error(
      `warning: traffic changed but the audit record failed: ${err instanceof Error ? err.message : String(err)}`,
    );
    return undefined;
  }
}

const KIND_TEXT: Record<ShiftKind, string> = {
  shift: 'traffic shift',
  rollback: 'ROLLBACK',
  'auto-rollback': 'AUTOMATIC ROLLBACK',
  'plan-step': 'rollout step',
  'plan-abort': 'rollout aborted',
  'plan-pause': 'rollout paused',
  'plan-promote': 'rollout promoted',
};

/** Announces a change of traffic on the warning topic; a failure here is reported, not fatal. */
async function announce(deps: ShiftDeps, ctx: ShiftContext, out: Output, r: ShiftRecord): Promise<void> {
  const subject = `[pipeline-guardrails ${ctx.envName}] ${KIND_TEXT[r.kind]}: green ${r.from.green}% -> ${r.to.green}%`;
  const message = [
    `${KIND_TEXT[r.kind]} in ${ctx.envName}: ${formatWeights(r.from)} -> ${formatWeights(r.to)}`,
    `when: ${r.at}`,
    `who: ${r.actor}`,
    r.forced ? `FORCED: ${r.reason ?? ''}` : r.reason ? `reason: ${r.reason}` : undefined,
    r.snapshotId ? `pre-shift snapshot: ${r.snapshotId}` : undefined,
    r.detail ? `detail: ${r.detail}` : undefined,
    `audit id: ${r.id}`,
    '',
    `status:   npm run shift -- --env ${ctx.envName} --status`,
    `rollback: npm run shift -- --env ${ctx.envName} --rollback`,
  ]
    .filter((l): l is string => l !== undefined)
    .join('\n');
  try {
    await deps.sns.send(
      new PublishCommand({ TopicArn: ctx.warningTopicArn, Subject: subject.slice(0, 100), Message: message }),
    );
    out.line(`announced on ${ctx.warningTopicArn.split(':').pop() ?? ctx.warningTopicArn}`);
  } catch (err) {
    out.error(`warning: announcement failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function status(
  ctx: ShiftContext,
  deps: ShiftDeps,
  out: Output,
  scheduleMinutes: number,
): Promise<ExitCode> {
  const stateMachineArn = ctx.deployment.has(DEPLOYMENT_KEYS.stateMachineArn)
    ? ctx.deployment.get(DEPLOYMENT_KEYS.stateMachineArn)
    : undefined;
  const [reading, intent, lease, activePlan] = await Promise.all([
    inspectTraffic(deps.elbv2, ctx.target),
    readWeightsIntent(deps.doc, ctx.tableName),
    readLeaseItem(deps, ctx.tableName),
    stateMachineArn
      ? describeActivePlan(deps.sfn, deps.doc, ctx.tableName, stateMachineArn)
      : Promise.resolve(undefined),
  ]);
  const listener = reading.weights;
  const stored = intent?.weights;
  // Every broken state this command can see, each with the command that repairs it.
  const broken: string[] = [];
  const repair = (what: string, command: string) => broken.push(`${what}\n              repair: ${command}`);
  const cmd = (flags: string) => `npm run shift -- --env ${ctx.envName} ${flags}`;
  for (const p of reading.problems)
    repair(
      `listener: ${p}`,
      `fix it as described (see: aws elbv2 describe-rules --listener-arn ${ctx.target.listenerArn}), then ${cmd('--status')}`,
    );
  for (const n of reading.notes) repair(`listener: ${n}`, `npx cdk deploy -c env=${ctx.envName}`);
  if (listener && stored && (listener.blue !== stored.blue || listener.green !== stored.green)) {
    repair(
      `weights disagree: the listener rule applies ${formatWeights(listener)}, the record of intent says ${formatWeights(stored)} (${intent?.operationId} by ${intent?.writer} at ${intent?.at}): a write failed half way`,
      `${cmd('--rollback')}   (or repeat the shift to ${formatWeights(stored)})`,
    );
  }
  const nowSec = deps.clock.now() / 1000;
  if (lease && lease.expiresAt < nowSec) {
    repair(
      `lease held by ${lease.owner} (${lease.purpose}) but not renewed since ${lease.renewedAt ?? lease.acquiredAt}: its writer is gone`,
      `${cmd('--rollback')} if traffic must go back; the next shift takes the lease over after waiting one TTL`,
    );
  }
  const planState = activePlan?.state;
  if (planState && ACTIVE_PLAN_STATUSES.includes(planState.status) && !activePlan?.execution) {
    repair(
      `plan ${planState.planId} is marked ${planState.status} but no execution runs (stale plan item)`,
      cmd('--abort'),
    );
  }
  const [alarms, blue, green, checks, lock, shifts, snapshots, services] = await Promise.all([
    environmentAlarms(deps, ctx),
    targetHealth(deps, ctx.target.blueTargetGroupArn),
    targetHealth(deps, ctx.target.greenTargetGroupArn),
    checksVerdict(deps, ctx.tableName, checksMaxAgeMs(scheduleMinutes)),
    peekLock(deps, ctx.tableName),
    recentShifts(deps.doc, ctx.tableName, 10),
    deps.rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: ctx.instanceIdentifier })),
    ctx.services
      ? deps.ecs.send(
          new DescribeServicesCommand({
            cluster: ctx.services.cluster,
            services: [ctx.services.blue, ctx.services.green],
          }),
        )
      : Promise.resolve(undefined),
  ]);
  const service = (name: string | undefined) => services?.services?.find((x) => x.serviceName === name);
  const describeService = (color: 'blue' | 'green', svc: Service | undefined) => {
    if (!svc) return `${color} ?`;
    const primary = svc.deployments?.find((d) => d.status === 'PRIMARY');
    const taskDef = (svc.taskDefinition ?? '').split('/').pop();
    return `${color} ${svc.runningCount ?? 0}/${svc.desiredCount ?? 0} running ${taskDef}${primary?.rolloutState ? ` (${primary.rolloutState})` : ''}`;
  };
  const inSync = listener !== undefined && (stored === undefined || listener.blue === stored.blue);
  const lastSnapshot = (snapshots.DBSnapshots ?? [])
    .filter((s) => s.SnapshotCreateTime)
    .sort((a, b) => (b.SnapshotCreateTime?.getTime() ?? 0) - (a.SnapshotCreateTime?.getTime() ?? 0))[0];
  const lastPreShift = shifts.find((s) => s.snapshotId)?.snapshotId;
  const routing = new Set([...ctx.greenAlarmNames, ...ctx.blueAlarmNames]);
  const routingAlarms = alarms.filter(
    (a) => routing.has(a.name) || parseAlarmName(a.name)?.area === 'routing',
  );
  const criticalInAlarm = alarms.filter((a) => a.critical && a.state === 'ALARM');
  // What the gates watch, as the shift and the plan evaluate them: missing means every shift is refused;
  // in ALARM (or no healthy green) while green has traffic means the automatic rollback has not acted.
  const watched = watchedAlarmNames(ctx, alarms);
  const missing = watched.filter((n) => !alarms.some((a) => a.name === n));
  if (missing.length > 0)
    repair(
      `alarm(s) the gates watch do not exist: ${missing.join(', ')} (every shift and plan step is refused)`,
      `npx cdk deploy -c env=${ctx.envName}`,
    );
  if (listener && listener.green > 0) {
    const firing = alarms.filter((a) => watched.includes(a.name) && a.state === 'ALARM');
    if (firing.length > 0)
      repair(
        `green takes ${listener.green}% of traffic while ${firing.map((a) => a.name).join(', ')} ${firing.length === 1 ? 'is' : 'are'} in ALARM: the automatic rollback has not acted (is it armed? see its dead-letter queue)`,
        cmd('--rollback'),
      );
    if (green.healthy === 0)
      repair(
        `green takes ${listener.green}% of traffic but has no healthy target (${green.total} registered): its share fails with ELB 503s`,
        cmd('--rollback'),
      );
  }

  out.line(`${ctx.envName} routing status`);
  out.line(
    `  weights   listener rule ${listener ? formatWeights(listener) : 'UNREADABLE (see below)'}; record of intent ${stored ? `${formatWeights(stored)} (v${intent?.version})` : 'none yet'}${inSync ? ' (in sync)' : ' (DISAGREE: see below)'}`,
  );
  if (planState) {
    out.line(
      `  plan      ${planState.planId} ${planState.status}${activePlan?.execution ? ' (running)' : ''}, step ${planState.stepIndex + 1}/${planState.steps.length}${describePlanWait(planState)}`,
    );
  }
  // The automatic rollback's armed window, judged from the same facts as the function (lease, plan, intent).
  const arming = ctx.deployment.has(AUTO_ROLLBACK_PARAMETER)
    ? judgeArming({
        lease,
        plan: planState,
        intent,
        watchHours: (JSON.parse(ctx.deployment.get(AUTO_ROLLBACK_PARAMETER)) as DeployedPolicy).watchHours,
        nowMs: deps.clock.now(),
      })
    : undefined;
  out.line(
    `  rollback  ${
      arming === undefined
        ? 'automatic rollback: not deployed'
        : arming.armed
          ? `automatic rollback ARMED${arming.until ? ` until ${arming.until}` : ''} (${arming.detail})`
          : `automatic rollback disarmed (${arming.detail})`
    }`,
  );
  out.line(
    `  targets   blue ${blue.healthy}/${blue.total} healthy, green ${green.healthy}/${green.total} healthy`,
  );
  if (ctx.services) {
    out.line(
      `  services  ${describeService('blue', service(ctx.services.blue))}, ${describeService('green', service(ctx.services.green))}`,
    );
  }
  out.line(`  checks    ${checks.message}`);
  out.line(
    `  lock      ${lock ? `held by ${lock.owner} since ${lock.acquiredAt} (${lock.purpose})` : 'free'}`,
  );
  out.line(
    `  snapshot  ${lastSnapshot ? `${lastSnapshot.DBSnapshotIdentifier} ${lastSnapshot.Status} ${lastSnapshot.SnapshotCreateTime?.toISOString()}` : 'none found'}${lastPreShift ? `; last pre-shift ${lastPreShift}` : ''}`,
  );
  out.line(
    `  critical  ${criticalInAlarm.length === 0 ? 'no critical alarm in ALARM' : `in ALARM: ${criticalInAlarm.map((a) => a.name).join(', ')}`}`,
  );
  out.line('  routing alarms');
  for (const a of routingAlarms) out.line(`    ${a.state.padEnd(17)} ${a.name}`);
  if (broken.length > 0) {
    out.line('  PROBLEMS');
    for (const b of broken) out.line(`    ${b}`);
  }
  out.line('  recent shifts (newest first)');
  if (shifts.length === 0) out.line('    none');
  for (const s of shifts) out.line(`    ${formatRecord(s)}`);
  Object.assign(out.result, {
    weights: { listener: listener ?? null, intent: intent ?? null, inSync },
    problems: broken,
    lease: lease ?? null,
    plan: planState ?? null,
    autoRollback: arming ?? null,
    targets: { blue, green },
    services: ctx.services
      ? {
          blue: describeService('blue', service(ctx.services.blue)),
          green: describeService('green', service(ctx.services.green)),
        }
      : null,
    checks: { ok: checks.ok, message: checks.message, summary: checks.summary },
    lock: lock ?? null,
    lastSnapshot: lastSnapshot
      ? {
          id: lastSnapshot.DBSnapshotIdentifier,
          status: lastSnapshot.Status,
          createdAt: lastSnapshot.SnapshotCreateTime,
        }
      : null,
    lastPreShiftSnapshot: lastPreShift ?? null,
    alarms: routingAlarms.map((a) => ({ name: a.name, state: a.state })),
    criticalInAlarm: criticalInAlarm.map((a) => a.name),
    recentShifts: shifts,
    outcome: broken.length > 0 ? 'problems' : 'status',
  });
  if (reading.problems.length > 0) {
    out.error(
      `refused to call this healthy: the listener is not in the shape this tool changes (see PROBLEMS)`,
    );
    return EXIT.INVALID_WEIGHTS;
  }
  return EXIT.OK;
}

const OUTCOME_TEXT: Record<ShiftOutcome, string> = {
  applied: 'applied',
  'rolled-back': 'rolled back',
  refused: 'REFUSED',
  failed: 'FAILED',
  'dry-run': 'dry run',
};

function formatRecord(s: ShiftRecord): string {
  const bits = [
    s.at.replace(/\.\d{3}Z$/, 'Z'),
    s.kind.padEnd(13),
    `green ${s.from.green}% -> ${s.to.green}%`.padEnd(20),
    OUTCOME_TEXT[s.outcome],
    `by ${s.actor}`,
  ];
  if (s.forced) bits.push(`FORCED (${s.reason ?? ''})`);
  else if (s.reason) bits.push(`(${s.reason})`);
  if (s.snapshotId) bits.push(`snapshot ${s.snapshotId}`);
  return bits.join('  ');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
