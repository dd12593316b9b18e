import { MIN_BAKE_SECONDS, PLAN_LIMITS } from '../../../lambda/rollout/plan';
import { requestPromote, type PlanState } from '../../../lambda/shared/rollout-control';
import { rolloutConfig, runPlan } from '../../support/rollout-run';
import { FAULT_KINDS, TrafficWorld } from '../../support/traffic-world';

/**
 * Evidence before promotion, pause and promote, on the SYNTHESIZED rollout definition run by
 * aws-local-stepfunctions against the real task handler and the in-memory world (test/support). The world
 * serves green's RequestCount (GetMetricData) at `greenRequestsPerMinute` of its weight.
 */
const plan = (world: TrafficWorld) => world.plan as unknown as PlanState | undefined;
const greens = (world: TrafficWorld) => world.changes.map((c) => c.to.green);

/** A person promotes (the CLI's write) each pause, once, the first time they see it. */
function promoteWhenPaused(world: TrafficWorld, opts: { full?: boolean } = {}) {
  const seen: { pausedAt?: number; greenWhenPaused?: number; promoted: boolean; steps: Set<number> } = {
    promoted: false,
    steps: new Set(),
  };
  return {
    seen,
    beforeTask: (state: string) => {
      const p = plan(world);
      if (state !== 'BakeCheck' || p?.phase !== 'paused' || seen.steps.has(p.stepIndex)) return;
      seen.pausedAt ??= world.now;
      seen.greenWhenPaused ??= world.weights.green;
      seen.promoted = true;
      seen.steps.add(p.stepIndex);
      void requestPromote(world.doc(), world.tableName, {
        planId: p.planId,
        stepIndex: p.stepIndex,
        full: opts.full === true,
        waivesEvidence: true,
        actor: 'arn:aws:sts::111111111111:assumed-role/ops/bob',
      }).catch(() => {
        // The person's call failed (a throttle): they run --promote again at the next look.
        seen.steps.delete(p.stepIndex);
      });
    },
  };
}

/** runPlan with the data checker still running (its result stays fresh over hours of simulated time). */
const run = (
  world: TrafficWorld,
  request: Parameters<typeof runPlan>[1],
  opts: Parameters<typeof runPlan>[2] = {},
) =>
  runPlan(world, request, {
    ...opts,
    beforeTask: (state, n) => {
      world.setChecks('ok');
      opts.beforeTask?.(state, n);
    },
  });

describe('evidence before promotion (the synthesized state machine)', () => {
  it('a pause step waits for --promote: green stays at the step until a person promotes; paused audited once', async () => {
    const world = new TrafficWorld();
    let pausedChecks = 0;
    const promote = promoteWhenPaused(world);
    const result = await run(
      world,
      { steps: [10, 25, 100], bakeSeconds: 300, pauses: [0] },
      {
        beforeTask: (state, n) => {
          // Let the pause last a few checks (an hour of 60-second polls would do the same).
          if (state === 'BakeCheck' && plan(world)?.phase === 'paused' && pausedChecks++ < 3) return;
          promote.beforeTask(state);
          void n;
        },
      },
    );
    expect([result.status, world.plan?.cause, result.error]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(greens(world)).toEqual([10, 25, 100]);
    expect(promote.seen.greenWhenPaused).toBe(10);
    // Green rose to 25 only after the promote, never while paused.
    const rise = world.changes.find((c) => c.to.green === 25)!;
    expect(rise.at).toBeGreaterThan(promote.seen.pausedAt!);
    const pauses = world.audit.filter((a) => a.kind === 'plan-pause');
    expect(pauses.map((a) => a.detail)).toEqual([
      expect.stringMatching(/^paused at step 1\/3 \(pause-step\): a pause step of the plan/),
    ]);
    expect(world.published.some((p) => /PAUSED/.test(p.Subject ?? ''))).toBe(true);
    expect(world.violations()).toEqual([]);
  });

  it('--promote --full skips the remaining steps to the last one; the gates run once more before the increase', async () => {
    const world = new TrafficWorld();
    const promote = promoteWhenPaused(world, { full: true });
    const result = await run(
      world,
      { steps: [10, 25, 50, 100], bakeSeconds: 300, pauses: [0] },
      { beforeTask: promote.beforeTask },
    );
    expect([result.status, world.plan?.cause, result.error]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(greens(world)).toEqual([10, 100]);
    expect(result.path.filter((s) => s === 'StepGate')).toHaveLength(2);
    expect(world.audit.filter((a) => a.kind === 'plan-step').map((a) => a.detail)).toEqual([
      expect.stringMatching(/^step 1\/4/),
      expect.stringMatching(/^step 4\/4 .*evidence of the step before waived by a promote/),
    ]);
    expect(world.violations()).toEqual([]);
  });

  it('--promote --full while an alarm is in ALARM does not raise green: the re-evaluated gates roll back', async () => {
    const world = new TrafficWorld();
    const promote = promoteWhenPaused(world, { full: true });
    const result = await run(
      world,
      { steps: [10, 25, 50, 100], bakeSeconds: 300, pauses: [0] },
      {
        beforeTask: (state) => {
          promote.beforeTask(state);
          if (state === 'StepGate' && promote.seen.promoted) world.alarms.set(world.composite, 'ALARM');
        },
      },
    );
    expect(result.status).toBe('FAILED');
    expect(greens(world)).toEqual([10, 0]);
    expect(world.violations()).toEqual([]);
  });

  it('low traffic: too few green requests by the end of the evidence wait -> PAUSED, no promotion', async () => {
    const world = new TrafficWorld();
    world.greenRequestsPerMinute = () => 1; // 1 a minute: 100 requests take 100 minutes
    const config = rolloutConfig(world, { evidenceWaitSeconds: 600 });
    let pausedSeenAt: number | undefined;
    const result = await run(
      world,
      { steps: [10, 100], bakeSeconds: 300 },
      {
        config,
        beforeTask: (state) => {
          const p = plan(world);
          if (state === 'BakeCheck' && p?.phase === 'paused' && pausedSeenAt === undefined) {
            pausedSeenAt = world.now;
            // The person decides: abort (as the CLI does: mark the plan, the state machine rolls back).
            world.items.set('rollout#plan|current', { ...world.plan!, status: 'aborting' });
          }
        },
      },
    );
    expect(pausedSeenAt).toBeDefined();
    const p = world.audit.find((a) => a.kind === 'plan-pause');
    expect(p?.detail).toMatch(
      /paused at step 1\/2 \(evidence\): not enough evidence by .*: green served \d+ of the 100 requests required/,
    );
    // Paused after the bake (300 s) and the evidence wait (600 s), not before.
    expect(Date.parse(String(p!.at))).toBeGreaterThanOrEqual(
      Date.parse(String(world.audit.find((a) => a.kind === 'plan-step')!.at)) + 900_000,
    );
    expect(greens(world)).toEqual([10, 0]);
    expect(result.status).toBe('FAILED');
    expect(world.violations()).toEqual([]);
  });

  it('low traffic that picks up within the evidence wait promotes without a person', async () => {
    const world = new TrafficWorld();
    world.greenRequestsPerMinute = () => 10; // 100 requests after 10 minutes, within bake + wait
    const result = await run(world, { steps: [10, 100], bakeSeconds: 300 });
    expect([result.status, world.plan?.cause, result.error]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(world.audit.some((a) => a.kind === 'plan-pause')).toBe(false);
    const [first, second] = world.changes;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(600_000);
  });

  it('INSUFFICIENT_DATA on a green alarm is never a pass: no promotion; after a promote the next step goes on', async () => {
    const world = new TrafficWorld();
    world.alarms.set(world.greenAlarms[0]!, 'INSUFFICIENT_DATA');
    const promote = promoteWhenPaused(world);
    const result = await run(
      world,
      { steps: [10, 100], bakeSeconds: 300 },
      { beforeTask: promote.beforeTask, config: rolloutConfig(world, { evidenceWaitSeconds: 300 }) },
    );
    // The first step needed no evidence (green was at 0%); the second waited, paused, and was promoted.
    expect([result.status, world.plan?.cause, result.error]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(promote.seen.greenWhenPaused).toBe(10);
    expect(world.audit.find((a) => a.kind === 'plan-pause')?.detail).toMatch(
      /INSUFFICIENT_DATA: pipeline-guardrails-test-routing-green-error-rate-critical/,
    );
  });

  it('INSUFFICIENT_DATA appearing at the last look before an increase sends the plan back to wait, not to a rollback', async () => {
    const world = new TrafficWorld();
    let flipped = false;
    const promote = promoteWhenPaused(world);
    const result = await run(
      world,
      { steps: [10, 100], bakeSeconds: 300 },
      {
        config: rolloutConfig(world, { evidenceWaitSeconds: 300 }),
        beforeTask: (state) => {
          if (state === 'StepGate' && world.weights.green === 10 && !flipped) {
            flipped = true;
            world.alarms.set(world.greenAlarms[1]!, 'INSUFFICIENT_DATA');
          }
          promote.beforeTask(state);
        },
      },
    );
    // Back to the bake loop after the first StepGate of step 2 (path lists the task states).
    const gate = result.path.indexOf('StepGate', result.path.indexOf('ApplyStep'));
    expect(result.path[gate + 1]).toBe('BakeCheck');
    expect([result.status, world.plan?.cause, result.error]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(greens(world)).toEqual([10, 100]);
    expect(world.published.some((p) => /ROLLED BACK/.test(p.Subject ?? ''))).toBe(false);
  });

  it(`the minimum bake holds a promote: the bake cannot end before ${MIN_BAKE_SECONDS}s`, async () => {
    const world = new TrafficWorld();
    let promoted = false;
    const result = await run(
      world,
      { steps: [10, 100], bakeSeconds: 3600 },
      {
        beforeTask: (state) => {
          const p = plan(world);
          if (state === 'BakeCheck' && !promoted && p?.phase === 'baking') {
            promoted = true;
            void requestPromote(world.doc(), world.tableName, {
              planId: p.planId,
              stepIndex: p.stepIndex,
              full: false,
              waivesEvidence: false,
              actor: 'bob',
            });
          }
        },
      },
    );
    expect([result.status, world.plan?.cause, result.error]).toEqual(['SUCCEEDED', undefined, undefined]);
    const [first, second] = world.changes;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(MIN_BAKE_SECONDS * 1000);
    expect(second!.at - first!.at).toBeLessThan(3600_000);
  });

  it('a promote during the bake does not skip the evidence: the step still pauses, and only a promote while paused moves it on', async () => {
    const world = new TrafficWorld();
    world.greenRequestsPerMinute = () => 1;
    let early = false;
    const promote = promoteWhenPaused(world);
    const result = await run(
      world,
      { steps: [10, 100], bakeSeconds: 300 },
      {
        config: rolloutConfig(world, { evidenceWaitSeconds: 300 }),
        beforeTask: (state) => {
          const p = plan(world);
          if (state === 'BakeCheck' && !early && p?.phase === 'baking') {
            early = true;
            void requestPromote(world.doc(), world.tableName, {
              planId: p.planId,
              stepIndex: p.stepIndex,
              full: false,
              waivesEvidence: false,
              actor: 'bob',
            });
          }
          promote.beforeTask(state);
        },
      },
    );
    expect([result.status, world.plan?.cause, result.error]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(world.audit.filter((a) => a.kind === 'plan-pause')).toHaveLength(2);
    // Green rose only after the promote given while paused.
    expect(world.changes.find((c) => c.to.green === 100)!.at).toBeGreaterThan(promote.seen.pausedAt!);
  });

  it('a paused plan nobody promotes rolls back at its deadline (24 h), audited and paged', async () => {
    const world = new TrafficWorld();
    const result = await run(world, { steps: [10, 25, 100], bakeSeconds: 300, pauses: [0] });
    expect(result.status).toBe('FAILED');
    expect(world.plan).toMatchObject({ status: 'rolled-back' });
    expect(String(world.plan?.cause)).toMatch(/PlanDeadline: .*paused at step 1 \(pause-step\)/);
    expect(greens(world)).toEqual([10, 0]);
    expect(world.now - Date.parse('2026-11-26T02:00:00Z')).toBeGreaterThanOrEqual(
      PLAN_LIMITS.maxPlanSeconds * 1000,
    );
    expect(world.lease).toBeUndefined();
  });

  it('--retry after an abort: a new execution runs the same steps from the first, once the cause is fixed', async () => {
    const world = new TrafficWorld();
    const first = await run(
      world,
      { steps: [10, 50, 100], bakeSeconds: 300 },
      {
        beforeTask: (state) => {
          if (state === 'BakeCheck' && world.weights.green === 50)
            world.alarms.set(world.greenAlarms[0]!, 'ALARM');
        },
      },
    );
    expect(first.status).toBe('FAILED');
    expect(world.plan).toMatchObject({ status: 'rolled-back' });
    world.alarms.set(world.greenAlarms[0]!, 'OK'); // the cause is fixed
    const retry = await run(
      world,
      { steps: [10, 50, 100], bakeSeconds: 300, retryOf: 'plan-1' },
      { name: 'plan-2' },
    );
    expect(retry.status).toBe('SUCCEEDED');
    expect(world.plan).toMatchObject({ planId: 'plan-2', status: 'succeeded', retryOf: 'plan-1' });
    expect(greens(world)).toEqual([10, 50, 0, 10, 50, 100]);
    expect(world.violations()).toEqual([]);
  });
});

describe('faults on the new calls (GetMetricData, the pause, the promote): invariants hold', () => {
  let indexes: number[] = [];

  beforeAll(async () => {
    const world = new TrafficWorld();
    const promote = promoteWhenPaused(world);
    let first = -1;
    world.onCall = (command, index) => {
      if (first < 0 && command === 'cloudwatch.GetMetricData') first = index;
    };
    await run(world, { steps: [10, 25], bakeSeconds: 300, pauses: [0] }, { beforeTask: promote.beforeTask });
    // Every call from the first evidence read to the second increase: the pause, the polls, the promote.
    const end = world.calls.lastIndexOf('elbv2.ModifyRule');
    indexes = world.calls.map((_, i) => i).filter((i) => i >= first && i <= end);
  });

  it('covers the new calls', () => {
    expect(indexes.length).toBeGreaterThan(10);
  });

  it.each(FAULT_KINDS)(
    '%s at each call: green never rises without the gates, lease and plan item consistent',
    async (kind) => {
      const violations: string[] = [];
      for (const index of indexes) {
        const world = new TrafficWorld();
        const promote = promoteWhenPaused(world);
        world.fault = { index, kind };
        const result = await run(
          world,
          { steps: [10, 25], bakeSeconds: 300, pauses: [0] },
          { beforeTask: promote.beforeTask },
        );
        const v = world.violations();
        // Either it finished, or it rolled back to 100% blue; never stuck half way with the lease held.
        if (result.status !== 'SUCCEEDED' && world.weights.green !== 0)
          v.push(`ended ${result.status} at green ${world.weights.green}`);
        if (result.status === 'SUCCEEDED' && world.weights.green !== 25)
          v.push(`succeeded at green ${world.weights.green}`);
        const pauses = world.audit.filter((a) => a.kind === 'plan-pause').length;
        if (pauses > 1) v.push(`pause audited ${pauses} times`);
        violations.push(...v.map((x) => `${kind} at #${index} (${world.calls[index]}): ${x}`));
      }
      expect(violations).toEqual([]);
    },
  );
});
