import { runPlan } from '../../support/rollout-run';
import { TrafficWorld } from '../../support/traffic-world';

/**
 * The synthesized rollout definition run by aws-local-stepfunctions (test/support/rollout-run.ts) against
 * the real task handler and the in-memory world: Retry, Catch and the Choice/Wait loops as Step Functions
 * runs them.
 */
describe('the rollout state machine (aws-local-stepfunctions), run against the task handler', () => {
  it('runs a plan to the end: snapshot, then each step gated, applied, audited and baked; the lease is released', async () => {
    const world = new TrafficWorld();
    const run = await runPlan(world, { steps: [10, 50, 100], bakeSeconds: 180 });
    expect(run.status).toBe('SUCCEEDED');
    expect(world.weights).toEqual({ blue: 0, green: 100 });
    expect(world.intent).toMatchObject({ weights: { blue: 0, green: 100 }, operationId: 'plan-1#step-3' });
    expect(world.audit.map((a) => a.detail)).toEqual([
      'step 1/3 of 10% -> 50% -> 100%, bake 180s',
      'step 2/3 of 10% -> 50% -> 100%, bake 180s',
      'step 3/3 of 10% -> 50% -> 100%, bake 180s',
    ]);
    expect(world.lease).toBeUndefined();
    expect(world.plan).toMatchObject({ status: 'succeeded' });
    expect(world.snapshots).toHaveLength(1);
    expect(world.violations()).toEqual([]);
  });

  it('an alarm firing mid-bake ends at 100% blue, audited and paged, lease released', async () => {
    const world = new TrafficWorld();
    const run = await runPlan(
      world,
      { steps: [10, 50, 100], bakeSeconds: 300 },
      {
        beforeTask: (state) => {
          if (state === 'BakeCheck' && world.weights.green === 50)
            world.alarms.set(world.greenAlarms[0]!, 'ALARM');
        },
      },
    );
    expect(run.status).toBe('FAILED');
    expect(run.path.at(-1)).toBe('Rollback');
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.intent).toMatchObject({ weights: { blue: 100, green: 0 } });
    expect(world.plan).toMatchObject({ status: 'rolled-back' });
    expect(world.lease).toBeUndefined();
    expect(world.published.some((p) => /ROLLED BACK/.test(p.Subject ?? ''))).toBe(true);
  });

  it('green losing its last healthy target during a bake rolls back (the bake checks target health)', async () => {
    const world = new TrafficWorld();
    const run = await runPlan(
      world,
      { steps: [10, 100], bakeSeconds: 300 },
      {
        beforeTask: (state) => {
          if (state === 'BakeCheck') world.health.green = ['unhealthy', 'unhealthy'];
        },
      },
    );
    expect(run.status).toBe('FAILED');
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(String(world.plan?.cause)).toMatch(/GreenUnhealthy/);
  });

  it('a throttle right after ModifyRule in the step task: the Retry recognises its own write and goes on', async () => {
    const world = new TrafficWorld();
    // Fail the first read-back after the first ModifyRule (the call after it).
    world.onCall = (command, index) => {
      if (command === 'elbv2.ModifyRule' && world.fault === undefined)
        world.fault = { index: index + 1, kind: 'error' };
    };
    const run = await runPlan(world, { steps: [10, 100], bakeSeconds: 180 });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.filter((s) => s === 'ApplyStep')).toHaveLength(3);
    expect(world.weights).toEqual({ blue: 0, green: 100 });
    expect(world.audit.filter((a) => a.kind === 'plan-step')).toHaveLength(2);
    expect(world.violations()).toEqual([]);
  });

  it('a throttled lease release in the final task never rolls a finished cutover back', async () => {
    const world = new TrafficWorld();
    let throttled = 0;
    world.onCall = (command, index) => {
      if (command === 'ddb.Delete' && throttled++ < 5) world.fault = { index, kind: 'error' };
    };
    const run = await runPlan(world, { steps: [50, 100], bakeSeconds: 180 });
    expect(run.status).toBe('SUCCEEDED');
    expect(world.weights).toEqual({ blue: 0, green: 100 });
    expect(world.published.some((p) => /ROLLED BACK/.test(p.Subject ?? ''))).toBe(false);
    // The lease was not released, so it expires by itself within its short TTL.
    expect(((world.lease?.expiresAt as number) ?? 0) * 1000 - world.now).toBeLessThanOrEqual(300_000);
  });

  it('a closed gate before the snapshot ends the plan with traffic untouched and no snapshot', async () => {
    const world = new TrafficWorld();
    world.setChecks('violation');
    const run = await runPlan(world, { steps: [10, 100], bakeSeconds: 180 });
    expect(run.status).toBe('FAILED');
    expect(world.snapshots).toHaveLength(0);
    expect(world.changes).toEqual([]);
    expect(world.plan).toMatchObject({ status: 'refused' });
    expect(world.lease).toBeUndefined();
  });

  it('a gate that closes between the StepGate and the change stops the increase (gates re-read in the apply task)', async () => {
    const world = new TrafficWorld();
    const run = await runPlan(
      world,
      { steps: [10, 100], bakeSeconds: 180 },
      {
        beforeTask: (state) => {
          if (state === 'ApplyStep' && world.weights.green === 10) world.alarms.set(world.composite, 'ALARM');
        },
      },
    );
    expect(run.status).toBe('FAILED');
    expect(world.changes.map((c) => c.to.green)).toEqual([10, 0]);
    expect(world.violations()).toEqual([]);
  });
});
